"""The Asterisk emulator on its own event loop thread, for the session's ``ivr serve``: the
IVR's Asterisk adapter connects to it like to a PBX; tests place calls through it with
:meth:`EmulatorThread.run`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TypeVar

from ivr.sim.asterisk import AsteriskEmulator

T = TypeVar("T")
ARI_USER = "ivr"
ARI_PASSWORD = "test-ari-password-not-a-secret"


class EmulatorThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="asterisk-emulator")
        self.emu: AsteriskEmulator | None = None
        self.url = ""

    def start(self) -> str:
        self._thread.start()

        async def boot() -> str:
            self.emu = AsteriskEmulator(user=ARI_USER, password=ARI_PASSWORD)
            return await self.emu.start()

        self.url = self.run(boot, 30)
        return self.url

    def run(self, factory: Callable[[], Awaitable[T]], timeout_s: float = 600) -> T:
        """Run ``factory()`` on the emulator's loop and wait for its result."""

        async def wrapped() -> T:
            return await factory()

        future: Future[T] = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return future.result(timeout_s)

    def stop(self) -> None:
        if self.emu is not None:
            emu = self.emu
            self.run(emu.close, 30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
