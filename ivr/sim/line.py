"""The provider-neutral half of the phone simulator: one call's line and its 20 ms clock.

Every 20 ms the clock takes the caller's next frame (script audio or silence, or a microphone),
"plays" one frame of the bot audio received so far, optionally leaks that bot audio back into
the caller's frame through a simulated echo path (speakerphone or hybrid), and sends the frame
over the provider's :class:`Wire`. The script driver waits for the bot to finish speaking (or
to have spoken ``barge_in_ms``), then says the next turn. Turn latency is measured from the last
voiced caller frame sent to the first bot audio received; a barge-in's stop time on the media
clock, from the caller's first voiced frame to the first of five silent bot frames."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.sim.echo import EchoPath

FRAME = 160  # bytes of μ-law per 20 ms at 8 kHz
PCM_FRAME = 320  # bytes of PCM16 per 20 ms at 8 kHz
SILENCE = b"\xff" * FRAME
STOP_SILENT_TICKS = 5


@dataclass
class TurnTiming:
    index: int
    kind: str  # speech | dtmf | silence
    said: str
    latency_ms: float | None = None
    barge_in: bool = False
    # Barge-in: caller's first voiced frame → the bot's audio stopped, on the media clock.
    barge_stop_ms: float | None = None


@dataclass
class SimResult:
    call_sid: str
    refused: bool = False
    twiml: str = ""
    greeting_ms: float | None = None  # stream start -> first bot audio
    answer_ms: float | None = None  # call answered (webhook, StasisStart) -> first bot audio
    turns: list[TurnTiming] = field(default_factory=list)
    frames_sent: int = 0
    frames_late: int = 0
    bot_frames: int = 0
    marks_echoed: int = 0
    clears: int = 0
    ended_by: str = ""
    duration_s: float = 0.0
    record: dict[str, Any] | None = None
    recording: bytes = b""  # stereo PCM16 8 kHz: left caller, right bot
    errors: list[str] = field(default_factory=list)


# The next 20 ms caller frame (160 bytes of μ-law) and whether it is the last voiced frame of an
# utterance (the reference point for the reply latency).
CallerSource = Callable[[], tuple[bytes, bool]]
# The bot audio "played" in one 20 ms tick (up to 160 bytes of μ-law; b"" when nothing played).
BotSink = Callable[[bytes], None]


class Wire(Protocol):
    """How the caller's side reaches the IVR through one provider (Twilio, Asterisk)."""

    async def send_audio(self, ulaw: bytes) -> None:
        """One 20 ms caller frame; raises ``ConnectionError`` once the line is gone."""
        ...

    async def send_dtmf(self, digit: str) -> None: ...

    async def send_raw(self, raw: str) -> None:
        """A verbatim wire message (malformed-input tests)."""
        ...

    async def hangup(self) -> None: ...

    async def audio_played(self, line: Line) -> None:
        """The clock played more bot audio (a provider with marks echoes the due ones)."""
        ...


def ulaw_frames(pcm8k: bytes) -> list[bytes]:
    ulaw = pcm16_to_ulaw(pcm8k)
    frames = [ulaw[i : i + FRAME] for i in range(0, len(ulaw), FRAME)]
    if frames and len(frames[-1]) < FRAME:
        frames[-1] = frames[-1] + b"\xff" * (FRAME - len(frames[-1]))
    return frames


class Line:
    """State shared by the 20 ms clock, the provider's receiver and the script driver."""

    def __init__(self, source: CallerSource | None = None, sink: BotSink | None = None,
                 echo: EchoPath | None = None) -> None:
        self.outgoing: deque[tuple[bytes, bool]] = deque()
        self.source: CallerSource = source or self.scripted_frame
        self.sink = sink
        self.echo = echo
        self.play = bytearray()  # bot audio received, not yet played (PCM16 8 kHz)
        self.received = 0  # bytes of bot PCM received in all
        self.played = 0  # ... and played
        self.marks: deque[tuple[int, str]] = deque()  # (received position, name)
        self.last_bot_audio = 0.0
        self.turn_bot_frames = 0
        self.awaiting: TurnTiming | None = None
        self.reference: float | None = None
        self.rec_caller = bytearray()
        self.rec_bot = bytearray()
        self.closed = asyncio.Event()
        self.started = 0.0
        self.answered = 0.0
        self.ticks = 0
        self.barge: TurnTiming | None = None  # a barge-in whose stop is being timed
        self.barge_onset = 0  # tick of its first voiced frame
        self._silent_ticks = 0

    def scripted_frame(self) -> tuple[bytes, bool]:
        """The default caller source: queued script audio, silence between utterances."""
        return self.outgoing.popleft() if self.outgoing else (SILENCE, False)

    def bot_audio(self, pcm: bytes, result: SimResult) -> None:
        """The provider delivered bot audio (PCM16 8 kHz) to the phone."""
        now = time.monotonic()
        if result.greeting_ms is None:
            result.greeting_ms = (now - self.started) * 1000
            result.answer_ms = (now - self.answered) * 1000
        if self.awaiting is not None and self.reference is not None:
            self.awaiting.latency_ms = (now - self.reference) * 1000
            self.awaiting = None
            self.reference = None
        self.play += pcm
        self.received += len(pcm)
        self.last_bot_audio = now

    def clear(self) -> None:
        """Drop the bot audio not yet played (the provider's ``clear``)."""
        self.received -= len(self.play)
        self.play.clear()

    def _time_barge(self, played: bool) -> None:
        if self.barge is None or self.ticks < self.barge_onset:
            return
        self._silent_ticks = 0 if played else self._silent_ticks + 1
        if self._silent_ticks >= STOP_SILENT_TICKS:
            stop_tick = self.ticks - STOP_SILENT_TICKS + 1
            self.barge.barge_stop_ms = max(0, stop_tick - self.barge_onset) * 20.0
            self.barge = None

    async def run_clock(self, wire: Wire, result: SimResult) -> None:
        """Every 20 ms: play one bot frame, send one caller frame (with the echo of what was
        played), let the wire echo due marks."""
        t0 = time.monotonic()
        while not self.closed.is_set():
            frame, last_voiced = self.source()
            self.ticks += 1
            played = bytes(self.play[:PCM_FRAME])
            del self.play[:PCM_FRAME]
            if played:
                self.played += len(played)
                self.turn_bot_frames += 1
                self.last_bot_audio = time.monotonic()
                result.bot_frames += 1
            self._time_barge(bool(played))
            if self.echo is not None:
                frame = pcm16_to_ulaw(self.echo.add_to(ulaw_to_pcm16(frame), played))
            try:
                await wire.send_audio(frame)
            except ConnectionError:
                break
            result.frames_sent += 1
            self.rec_caller += ulaw_to_pcm16(frame)
            if last_voiced and self.awaiting is not None:
                self.reference = time.monotonic()
            self.rec_bot += played.ljust(PCM_FRAME, b"\x00")
            if self.sink is not None:
                self.sink(pcm16_to_ulaw(played))
            await wire.audio_played(self)
            delay = t0 + self.ticks * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.02:
                result.frames_late += 1


def interleave(left: bytes, right: bytes) -> bytes:
    import numpy as np

    n = min(len(left), len(right)) // 2
    a = np.frombuffer(left[: n * 2], dtype="<i2")
    b = np.frombuffer(right[: n * 2], dtype="<i2")
    return np.column_stack([a, b]).astype("<i2").tobytes()
