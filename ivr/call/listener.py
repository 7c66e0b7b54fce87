"""The caller-audio path of one call, provider-neutral: PCM16 at the channel's rate → echo
canceller (with the bot audio played at that time as reference) → 20 ms frames → VAD →
endpointing (the end-of-answer silence the controller asks for), while a continuous resampler
feeds the recognizer stream opened at speech start (pre-roll included) at 16 kHz.

Endpointing runs on the media clock (frames × 20 ms); events carry the call clock's time."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from ivr.asr.base import AsrResult
from ivr.audio.chunker import FrameChunker
from ivr.audio.echo import BargeInGate, EchoCanceller
from ivr.audio.endpoint import EndpointConfig, Endpointer, EndpointEvent, EndpointEventType
from ivr.audio.reference import PlayedAudio
from ivr.audio.resample import line_to_recognizer
from ivr.audio.vad import Vad
from ivr.call import events as e
from ivr.call.model import ListenMode
from ivr.core.audio import ASR_RATE, frame_bytes
from ivr.core.types import Expectation

FRAME_MS = 20
PREROLL_MS = 300


class CallerStream(Protocol):
    """An open recognizer stream for one utterance (decoding happens off the event loop)."""

    @property
    def partial(self) -> str: ...

    def feed(self, pcm16: bytes) -> None: ...

    async def finish(self) -> AsrResult: ...

    async def cancel(self) -> None: ...


ListenerEvent = e.SpeechStarted | e.SpeechActivity | e.PartialText | e.SpeechStopped
# Opens a recognizer stream for an expectation; partial texts go to the callback.
OpenStream = Callable[[Expectation | None, Callable[[str], None]], CallerStream]


class Listener:
    def __init__(self, rate: int, vad: Vad, endpoint: EndpointConfig, open_stream: OpenStream,
                 emit: Callable[[ListenerEvent], None], now: Callable[[], float], *,
                 canceller: EchoCanceller, gate: BargeInGate, played: PlayedAudio) -> None:
        self.rate = rate
        self._vad = vad
        self._endpoint = endpoint
        self._endpointer = Endpointer(endpoint)
        self._open_stream = open_stream
        self._emit = emit
        self._now = now
        self._canceller = canceller
        self._gate = gate
        self._played = played
        self._resampler = line_to_recognizer(rate, ASR_RATE)
        self._chunker = FrameChunker(frame_bytes(rate, FRAME_MS))
        # 16 kHz audio not yet given to a recognizer, kept by size, not by frame count (with a
        # soxr resampler, for rates other than 8 kHz, it trails the VAD by ~100 ms).
        self._preroll: deque[bytes] = deque()
        self._preroll_bytes = 0
        self._preroll_max = frame_bytes(ASR_RATE, PREROLL_MS + 150)
        self._stream: CallerStream | None = None
        self._ended: CallerStream | None = None
        self.mode = ListenMode.IGNORE
        self.expect: Expectation | None = None
        self.media_ms = 0
        self._speech_start_ms = 0
        self._caller_ms = 0

    @property
    def in_speech(self) -> bool:
        return self._stream is not None

    def set_mode(self, mode: ListenMode, expect: Expectation | None,
                 end_silence_ms: int | None) -> list[CallerStream]:
        """Switch what caller speech means now. IGNORE drops the utterance in progress (the
        streams returned must be cancelled by the caller)."""
        self.mode, self.expect = mode, expect
        if end_silence_ms is not None and end_silence_ms != self._endpointer.config.end_silence_ms:
            self._endpointer.config = _with_end_silence(self._endpoint, end_silence_ms)
        if mode is ListenMode.IGNORE:
            return self.drop()
        return []

    def push(self, pcm: bytes) -> None:
        """Caller audio (PCM16 at ``rate``), as it arrives."""
        for frame in self._chunker.push(pcm):
            self._frame(frame)

    def _frame(self, raw: bytes) -> None:
        self.media_ms += FRAME_MS
        now = self._now()
        played = self._played.reference(len(raw), now)
        frame = self._canceller.process(raw, played)
        wide = self._resampler.process(frame)
        if wide:
            if self._stream is not None:
                self._stream.feed(wide)
            else:
                self._keep(wide)
        if self.mode is ListenMode.IGNORE:
            return
        speech = self._vad.is_speech(frame)
        if speech and self._gate.is_caller(raw, frame, played):
            self._caller_ms += FRAME_MS  # the caller's own speech in this utterance
        elif not speech and not self._endpointer.in_speech:
            self._caller_ms = 0
        for event in self._endpointer.update(speech, self.media_ms):
            self._on_event(event, now)
        if self._stream is not None and self.mode is ListenMode.BARGE:
            self._emit(e.SpeechActivity(now, self.media_ms - self._speech_start_ms,
                                        self._caller_ms))

    def _keep(self, pcm16k: bytes) -> None:
        self._preroll.append(pcm16k)
        self._preroll_bytes += len(pcm16k)
        while self._preroll_bytes > self._preroll_max and len(self._preroll) > 1:
            self._preroll_bytes -= len(self._preroll.popleft())

    def _on_event(self, event: EndpointEvent, now: float) -> None:
        if event.type is EndpointEventType.SPEECH_START:
            stream = self._open_stream(self.expect, self._partial)
            for chunk in self._preroll:
                stream.feed(chunk)
            self._preroll.clear()
            self._preroll_bytes = 0
            self._stream = stream
            self._speech_start_ms = event.speech_start_ms or event.at_ms
            self._emit(e.SpeechStarted(now))
        elif event.type in (EndpointEventType.SPEECH_END, EndpointEventType.MAX_LENGTH):
            last = event.last_voiced_ms if event.last_voiced_ms is not None else event.at_ms
            last_voiced_at = now - max(0, self.media_ms - last) / 1000.0
            self._ended, self._stream = self._stream, None
            self._endpointer.reset()
            self._caller_ms = 0
            self._emit(e.SpeechStopped(now, last_voiced_at))

    def _partial(self, text: str) -> None:
        if self._stream is not None:
            self._emit(e.PartialText(self._now(), text))

    def take_ended(self) -> CallerStream | None:
        """The utterance the endpointer just ended, to be finished (or cancelled)."""
        stream, self._ended = self._ended, None
        return stream

    def drop(self) -> list[CallerStream]:
        """Forget the utterance in progress and any ended one not yet taken."""
        dropped = [s for s in (self._stream, self._ended) if s is not None]
        self._stream = self._ended = None
        self._endpointer.reset()
        self._caller_ms = 0
        return dropped


def _with_end_silence(config: EndpointConfig, end_silence_ms: int) -> EndpointConfig:
    return EndpointConfig(min_speech_ms=config.min_speech_ms, end_silence_ms=end_silence_ms,
                          no_input_ms=config.no_input_ms,
                          max_utterance_ms=config.max_utterance_ms,
                          onset_gap_ms=config.onset_gap_ms, frame_ms=config.frame_ms)
