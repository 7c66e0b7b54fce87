"""The caller-audio path of one call: μ-law → PCM16 8 kHz → 20 ms frames → VAD → endpointing
on the telephone-rate audio (no resampler delay in turn-taking), while a continuous 8 → 16 kHz
resampler feeds the recognizer stream opened at speech start (pre-roll included).

Time is the inbound media clock (frames × 20 ms), so the state machine needs no wall clock."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ivr.asr.base import AsrResult
from ivr.audio.chunker import FrameChunker
from ivr.audio.endpoint import EndpointConfig, Endpointer, EndpointEvent, EndpointEventType
from ivr.audio.mulaw import ulaw_to_pcm16
from ivr.audio.resample import StreamResampler
from ivr.audio.vad import Vad
from ivr.core.audio import ASR_RATE, TELEPHONY_RATE, frame_bytes

FRAME_MS = 20
PREROLL_MS = 300


class CallerStream(Protocol):
    """An open recognizer stream for one utterance (decoding happens off the event loop)."""

    @property
    def partial(self) -> str: ...

    def feed(self, pcm16: bytes) -> None: ...

    async def finish(self) -> AsrResult: ...

    async def cancel(self) -> None: ...


class ListenMode(StrEnum):
    IGNORE = "ignore"  # bot thinking, or speaking a prompt that must not be cut
    BARGE = "barge"  # bot speaking an interruptible prompt: speech may interrupt it
    LISTEN = "listen"  # waiting for the caller's answer


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    media_ms: int


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    stream: CallerStream | None
    last_voiced_wall: float
    duration_ms: int


@dataclass(frozen=True, slots=True)
class NoInput:
    media_ms: int


ListenerEvent = SpeechStarted | SpeechEnded | NoInput


class Listener:
    """Feeds caller frames through VAD and the endpointer; reports turn events via ``emit``."""

    def __init__(
        self,
        vad: Vad,
        endpoint: EndpointConfig,
        open_stream: Callable[[], CallerStream],
        emit: Callable[[ListenerEvent], None],
    ) -> None:
        self._vad = vad
        self._endpointer = Endpointer(endpoint)
        self._open_stream = open_stream
        self._emit = emit
        self._resampler = StreamResampler(TELEPHONY_RATE, ASR_RATE)
        self._chunker = FrameChunker(frame_bytes(TELEPHONY_RATE, FRAME_MS))
        # 16 kHz audio not yet given to a recognizer; the resampler's block delay means this
        # can trail the VAD by ~100 ms, so it is kept by size, not by frame count.
        self._preroll: deque[bytes] = deque()
        self._preroll_bytes = 0
        self._preroll_max = frame_bytes(ASR_RATE, PREROLL_MS + 150)
        self._stream: CallerStream | None = None
        self.mode = ListenMode.IGNORE
        self.media_ms = 0
        self._speech_start_ms = 0

    @property
    def in_speech(self) -> bool:
        return self._stream is not None

    @property
    def stream(self) -> CallerStream | None:
        return self._stream

    @property
    def speech_ms(self) -> int:
        """How long the utterance in progress has lasted (0 when none)."""
        return self.media_ms - self._speech_start_ms if self._stream is not None else 0

    def set_mode(self, mode: ListenMode, *, arm_no_input: bool = False) -> None:
        """Switch what caller speech means now; LISTEN can arm the no-input timer."""
        if mode is ListenMode.IGNORE and self._stream is None:
            self._endpointer.reset()
        self.mode = mode
        if mode is ListenMode.LISTEN and arm_no_input and self._stream is None:
            self._endpointer.arm(self.media_ms)

    def push_ulaw(self, ulaw: bytes) -> None:
        pcm8k = ulaw_to_pcm16(ulaw)
        wide = self._resampler.process(pcm8k)
        if wide:
            if self._stream is not None:
                self._stream.feed(wide)
            else:
                self._keep(wide)
        for frame in self._chunker.push(pcm8k):
            self._frame(frame)

    def _keep(self, pcm16k: bytes) -> None:
        self._preroll.append(pcm16k)
        self._preroll_bytes += len(pcm16k)
        while self._preroll_bytes > self._preroll_max and len(self._preroll) > 1:
            self._preroll_bytes -= len(self._preroll.popleft())

    def _frame(self, frame: bytes) -> None:
        self.media_ms += FRAME_MS
        if self.mode is ListenMode.IGNORE:
            return
        speech = self._vad.is_speech(frame)
        for event in self._endpointer.update(speech, self.media_ms):
            self._on_event(event)

    def _on_event(self, event: EndpointEvent) -> None:
        if event.type is EndpointEventType.SPEECH_START:
            stream = self._open_stream()
            for chunk in self._preroll:
                stream.feed(chunk)
            self._preroll.clear()
            self._preroll_bytes = 0
            self._stream = stream
            self._speech_start_ms = event.speech_start_ms or event.at_ms
            self._emit(SpeechStarted(self.media_ms))
        elif event.type in (EndpointEventType.SPEECH_END, EndpointEventType.MAX_LENGTH):
            last = event.last_voiced_ms if event.last_voiced_ms is not None else event.at_ms
            wall = time.monotonic() - max(0, self.media_ms - last) / 1000.0
            ended, self._stream = self._stream, None
            self._endpointer.reset()
            self._emit(SpeechEnded(ended, wall, max(0, last - self._speech_start_ms)))
        elif event.type is EndpointEventType.NO_INPUT:
            self._endpointer.reset()
            self._emit(NoInput(self.media_ms))

    def drop_stream(self) -> CallerStream | None:
        """Forget the utterance in progress (e.g. speech that did not amount to a barge-in)."""
        stream, self._stream = self._stream, None
        self._endpointer.reset()
        return stream
