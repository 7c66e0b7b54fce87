"""Calls-per-second pacing with an injected clock and sleep (tests advance a fake clock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """``await acquire()`` returns at most ``rate`` times per second, evenly spaced."""

    def __init__(self, rate: float, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = float("-inf")

    def set_rate(self, rate: float) -> None:
        if rate > 0:
            self.interval = 1.0 / rate

    async def acquire(self) -> None:
        now = self._monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)
