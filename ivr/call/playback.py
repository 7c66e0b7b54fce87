"""Paced bot audio: PCM frames at the channel's rate, sent ``lead_ms`` ahead of real time on
the call's clock; "played up to" follows from that pace, not from the provider's marks.

Audio comes in chunks per bot turn (``seq``, unique per call); ``end(seq)`` says a turn is
complete. The
playback reports ``AudioStarted(seq)`` when a turn's first frame leaves and
``AudioFinished(seq)`` once its last frame has been played (by the pace), or at once when it
is cut. ``cut`` (barge-in) drops everything queued and every turn already begun; the caller
sends the provider's clear. Each frame goes to the echo reference at its play time."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ivr.audio.reference import PlayedAudio
from ivr.call import events as e
from ivr.call.clock import Clock
from ivr.core.audio import frame_bytes

log = logging.getLogger(__name__)

PlaybackEvent = e.AudioStarted | e.AudioFinished


@dataclass(frozen=True, slots=True)
class _Chunk:
    seq: int
    pcm: bytes


@dataclass(frozen=True, slots=True)
class _End:
    seq: int
    error: str | None


@dataclass
class PlaybackStats:
    frames_sent: int = 0
    frames_late: int = 0
    cuts: int = 0


class Playback:
    def __init__(self, send: Callable[[bytes], Awaitable[None]], *, rate: int, frame_ms: int,
                 clock: Clock, played: PlayedAudio,
                 report: Callable[[PlaybackEvent], None],
                 lead_ms: int = 60, max_bytes: int | None = None) -> None:
        self._send = send
        self._clock = clock
        self._played = played
        self._report = report
        self._frame_s = frame_ms / 1000.0
        self._frame_bytes = frame_bytes(rate, frame_ms)
        self._lead = lead_ms / 1000.0
        self._max_bytes = max_bytes or frame_bytes(rate, 30_000)
        self._queue: deque[_Chunk | _End] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._started: set[int] = set()
        self._finishing: deque[tuple[float, _End]] = deque()  # (played-up-to time, end)
        self._reported: set[int] = set()
        self._live: set[int] = set()  # turns begun and not cut
        self._cut: set[int] = set()
        self._deadline = 0.0  # play time at which the last frame sent ends
        self.stats = PlaybackStats()

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def begin(self, seq: int) -> None:
        """Turn ``seq`` will be played (a cut from now on also cuts it)."""
        self._live.add(seq)

    async def enqueue(self, seq: int, pcm: bytes) -> None:
        """Queue audio of turn ``seq``; waits while the queue is full (bounded in bytes)."""
        if seq not in self._cut:
            self._live.add(seq)
        while self._queued >= self._max_bytes and seq not in self._cut:
            self._space.clear()
            await self._space.wait()
        if seq in self._cut or not pcm:
            return
        self._put(_Chunk(seq, pcm))
        self._queued += len(pcm)

    def end(self, seq: int, error: str | None = None) -> None:
        """No more audio for turn ``seq`` (``error``: it could not all be synthesized)."""
        if seq in self._cut:
            self._finish(_End(seq, error))
        else:
            self._put(_End(seq, error))

    def _put(self, item: _Chunk | _End) -> None:
        self._queue.append(item)
        self._idle.clear()
        self._wake.set()

    def cut(self) -> None:
        """Barge-in: drop every queued frame; every turn begun or queued is finished now."""
        self.stats.cuts += 1
        begun = self._live | self._started | {i.seq for i in self._queue}
        self._cut |= begun
        ends = [i for i in self._queue if isinstance(i, _End)]
        self._queue.clear()
        self._queued = 0
        self._space.set()
        now = self._clock.now()
        self._played.clear_after(now)
        self._deadline = min(self._deadline, now)
        pending = [end for _, end in self._finishing]
        self._finishing.clear()
        for end in [*pending, *ends]:
            self._finish(end)
        for seq in sorted(begun):
            self._finish(_End(seq, None))
        self._check_idle()

    def _finish(self, end: _End) -> None:
        self._started.discard(end.seq)
        self._live.discard(end.seq)
        if end.seq in self._reported:
            return
        self._reported.add(end.seq)
        self._report(e.AudioFinished(self._clock.now(), end.seq, end.error))

    def _check_idle(self) -> None:
        if not self._queue and not self._finishing:
            self._idle.set()

    async def run(self) -> None:
        """Send queued audio as paced frames until cancelled."""
        while True:
            self._due()
            if self._queue:
                item = self._queue.popleft()
                if isinstance(item, _End):
                    self._finishing.append((self._deadline, item))
                    continue
                self._queued -= len(item.pcm)
                if self._queued < self._max_bytes:
                    self._space.set()
                await self._play(item)
                continue
            self._check_idle()
            self._wake.clear()
            if self._finishing:
                done_at = self._finishing[0][0]
                sleeper = asyncio.ensure_future(self._clock.sleep_until(done_at))
                waker = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleeper.cancel()
                    waker.cancel()
            else:
                await self._wake.wait()

    def _due(self) -> None:
        now = self._clock.now()
        while self._finishing and self._finishing[0][0] <= now + 1e-6:
            self._finish(self._finishing.popleft()[1])

    async def _play(self, chunk: _Chunk) -> None:
        size = self._frame_bytes
        now = self._clock.now()
        self._deadline = max(self._deadline, now)  # after a gap, play from now
        for start in range(0, len(chunk.pcm), size):
            if chunk.seq in self._cut:
                return
            frame = chunk.pcm[start : start + size].ljust(size, b"\x00")
            now = self._clock.now()
            play_at = self._deadline
            self._deadline += self._frame_s
            if now - play_at > self._frame_s:  # sent after it should have been heard
                self.stats.frames_late += 1
            if chunk.seq not in self._started and chunk.seq not in self._reported:
                self._started.add(chunk.seq)
                self._report(e.AudioStarted(now, chunk.seq))
            self._played.played(frame, play_at)
            await self._send(frame)
            self.stats.frames_sent += 1
            self._due()
            await self._clock.sleep_until(self._deadline - self._lead)
