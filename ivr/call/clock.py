"""Time as an input: the call's clock (seconds, monotonic) and a way to sleep on it.

``LoopClock`` is the event loop's monotonic clock. Tests and benchmarks of pure logic pass
their own clock; nothing in ``ivr.call`` reads the real time directly."""

from __future__ import annotations

import asyncio
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep_until(self, when: float) -> None: ...


class LoopClock:
    """The running event loop's clock (``loop.time()``, monotonic)."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep_until(self, when: float) -> None:
        delay = when - self.now()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)


async def sleep_for(clock: Clock, seconds: float) -> None:
    await clock.sleep_until(clock.now() + seconds)
