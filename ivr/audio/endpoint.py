"""Endpointing state machine: per-frame speech flags and stream time in, turn events out.

Pure: no clock reads. ``now_ms`` is the stream time at the *end* of the frame being reported
(e.g. frames counted × 20 ms), so a voiced frame covers ``(previous now_ms, now_ms]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EndpointEventType(StrEnum):
    SPEECH_START = "speech_start"
    SPEECH_END = "speech_end"
    NO_INPUT = "no_input"
    MAX_LENGTH = "max_length"


@dataclass(frozen=True, slots=True)
class EndpointEvent:
    """One endpointing decision.

    ``at_ms``: when it was decided. ``speech_start_ms``: start of the first voiced frame of the
    utterance (None for NO_INPUT). ``last_voiced_ms``: end of the last voiced frame (SPEECH_END
    and MAX_LENGTH), the reference point for turn latency.
    """

    type: EndpointEventType
    at_ms: int
    speech_start_ms: int | None = None
    last_voiced_ms: int | None = None


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """Timing thresholds in milliseconds."""

    min_speech_ms: int = 120
    end_silence_ms: int = 450
    no_input_ms: int = 5000
    max_utterance_ms: int = 15000
    onset_gap_ms: int = 60
    frame_ms: int = 20

    def __post_init__(self) -> None:
        for name in ("min_speech_ms", "end_silence_ms", "no_input_ms", "max_utterance_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.onset_gap_ms < 0 or self.frame_ms <= 0:
            raise ValueError("onset_gap_ms must be >= 0 and frame_ms > 0")


class EndpointPhase(StrEnum):
    WAITING = "waiting"  # no confirmed speech yet
    SPEAKING = "speaking"  # SPEECH_START emitted, waiting for the end
    DONE = "done"  # a terminal event was emitted; reset() or arm() for the next turn


class Endpointer:
    """Turns a stream of (is_speech, now_ms) into SPEECH_START / SPEECH_END / NO_INPUT / MAX_LENGTH.

    Without :meth:`arm` it only detects speech (e.g. barge-in during a prompt); after
    ``arm(now_ms)`` it also reports NO_INPUT if no speech starts within ``no_input_ms``.
    """

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self.reset()

    def reset(self) -> None:
        """Forget the current turn and disarm the no-input timer."""
        self.phase = EndpointPhase.WAITING
        self._armed_at: int | None = None
        self._prev_ms: int | None = None
        self._onset_ms: int | None = None  # start of the candidate voiced run
        self._voiced_ms = 0  # voiced time accumulated in the candidate run
        self._speech_start_ms: int | None = None
        self._last_voiced_ms: int | None = None

    def arm(self, now_ms: int) -> None:
        """Start a new turn that expects the caller to speak within ``no_input_ms``."""
        self.reset()
        self._armed_at = now_ms
        self._prev_ms = now_ms

    @property
    def in_speech(self) -> bool:
        return self.phase is EndpointPhase.SPEAKING

    def update(self, is_speech: bool, now_ms: int) -> list[EndpointEvent]:
        """Report one frame; returns the events it caused (usually none)."""
        if self.phase is EndpointPhase.DONE:
            return []
        frame_start = self._prev_ms if self._prev_ms is not None else now_ms - self.config.frame_ms
        frame_start = min(frame_start, now_ms)
        self._prev_ms = now_ms
        if self.phase is EndpointPhase.WAITING:
            return self._waiting(is_speech, frame_start, now_ms)
        return self._speaking(is_speech, now_ms)

    def _waiting(self, is_speech: bool, frame_start: int, now_ms: int) -> list[EndpointEvent]:
        cfg = self.config
        if is_speech:
            if self._onset_ms is None:
                self._onset_ms = frame_start
                self._voiced_ms = 0
            self._voiced_ms += now_ms - frame_start
            self._last_voiced_ms = now_ms
            if self._voiced_ms >= cfg.min_speech_ms:
                self.phase = EndpointPhase.SPEAKING
                self._speech_start_ms = self._onset_ms
                return [EndpointEvent(EndpointEventType.SPEECH_START, now_ms, self._onset_ms)]
        elif (
            self._onset_ms is not None
            and self._last_voiced_ms is not None
            and now_ms - self._last_voiced_ms > cfg.onset_gap_ms
        ):
            self._onset_ms = None
            self._voiced_ms = 0
        if self._armed_at is not None and now_ms - self._armed_at >= cfg.no_input_ms:
            self.phase = EndpointPhase.DONE
            return [EndpointEvent(EndpointEventType.NO_INPUT, now_ms)]
        return []

    def _speaking(self, is_speech: bool, now_ms: int) -> list[EndpointEvent]:
        cfg = self.config
        assert self._speech_start_ms is not None and self._last_voiced_ms is not None
        if is_speech:
            self._last_voiced_ms = now_ms
        if now_ms - self._speech_start_ms >= cfg.max_utterance_ms:
            return [self._finish(EndpointEventType.MAX_LENGTH, now_ms)]
        if not is_speech and now_ms - self._last_voiced_ms >= cfg.end_silence_ms:
            return [self._finish(EndpointEventType.SPEECH_END, now_ms)]
        return []

    def _finish(self, kind: EndpointEventType, now_ms: int) -> EndpointEvent:
        self.phase = EndpointPhase.DONE
        return EndpointEvent(kind, now_ms, self._speech_start_ms, self._last_voiced_ms)
