"""Paced outbound audio: 20 ms μ-law frames in real time, a mark after each prompt, ``clear`` on
barge-in. Tracks which prompts the caller has heard from the marks the provider echoes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ivr.audio.mulaw import pcm16_to_ulaw
from ivr.call.sink import MediaSink
from ivr.core.audio import TELEPHONY_RATE, frame_bytes

log = logging.getLogger(__name__)

FRAME_MS = 20
FRAME_BYTES = frame_bytes(TELEPHONY_RATE, FRAME_MS)


@dataclass(frozen=True, slots=True)
class _Audio:
    pcm: bytes
    interruptible: bool
    turn: int


@dataclass(frozen=True, slots=True)
class _Mark:
    name: str
    interruptible: bool


@dataclass
class PlaybackStats:
    frames_sent: int = 0
    frames_late: int = 0
    clears: int = 0


class Playback:
    """One per call. ``enqueue_*`` never block beyond the bounded queue; ``run`` paces output."""

    def __init__(
        self,
        sink: MediaSink,
        *,
        lead_ms: int = 60,
        max_items: int = 256,
        on_first_frame: Callable[[int, float], None] | None = None,
    ) -> None:
        self._sink = sink
        self._lead = lead_ms / 1000.0
        self._queue: asyncio.Queue[_Audio | _Mark] = asyncio.Queue(max_items)
        self._pending: deque[_Mark] = deque()
        self._sending: _Audio | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_first_frame = on_first_frame
        self._started_turns: set[int] = set()
        self._mark_seq = 0
        self._epoch = 0
        self.stats = PlaybackStats()

    @property
    def speaking(self) -> bool:
        return not self._idle.is_set()

    @property
    def interruptible(self) -> bool:
        """Whether what the caller hears now may be cut by barge-in."""
        if self._pending:
            return self._pending[0].interruptible
        if self._sending is not None:
            return self._sending.interruptible
        return True

    async def enqueue_audio(self, pcm: bytes, *, interruptible: bool, turn: int) -> None:
        self._idle.clear()
        await self._queue.put(_Audio(pcm, interruptible, turn))

    async def enqueue_mark(self, *, interruptible: bool) -> str:
        self._idle.clear()
        self._mark_seq += 1
        name = f"p{self._mark_seq}"
        await self._queue.put(_Mark(name, interruptible))
        return name

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def on_mark(self, name: str) -> None:
        """The provider played everything up to mark ``name``."""
        if all(mark.name != name for mark in self._pending):
            return  # a stale echo (e.g. of a mark dropped by ``clear``)
        while self._pending:
            mark = self._pending.popleft()
            if mark.name == name:
                break
        self._check_idle()

    async def interrupt(self) -> None:
        """Drop queued audio and tell the provider to flush what it has buffered."""
        self._epoch += 1
        dropped = 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Mark):
                continue
            dropped += 1
        self._sending = None
        self._pending.clear()
        self.stats.clears += 1
        await self._sink.send_clear()
        self._check_idle()
        log.debug("playback interrupted, %d queued chunks dropped", dropped)

    def _check_idle(self) -> None:
        if self._queue.empty() and self._sending is None and not self._pending:
            self._idle.set()

    async def run(self) -> None:
        """Send queued audio as paced 20 ms frames until cancelled."""
        deadline = time.monotonic()
        while True:
            item = await self._queue.get()
            if isinstance(item, _Mark):
                self._pending.append(item)
                await self._sink.send_mark(item.name)
                continue
            self._sending = item
            epoch = self._epoch
            now = time.monotonic()
            deadline = max(deadline, now)
            for start in range(0, len(item.pcm), FRAME_BYTES):
                if epoch != self._epoch:
                    break
                frame = item.pcm[start : start + FRAME_BYTES]
                if len(frame) < FRAME_BYTES:
                    frame = frame + b"\x00" * (FRAME_BYTES - len(frame))
                if item.turn not in self._started_turns:
                    self._started_turns.add(item.turn)
                    if self._on_first_frame is not None:
                        self._on_first_frame(item.turn, time.monotonic())
                await self._sink.send_media(pcm16_to_ulaw(frame))
                self.stats.frames_sent += 1
                deadline += FRAME_MS / 1000.0
                delay = deadline - self._lead - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -(self._lead + FRAME_MS / 1000.0):
                    self.stats.frames_late += 1
            if epoch == self._epoch:
                self._sending = None
            self._check_idle()


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
