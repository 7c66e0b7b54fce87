"""The call controller's settings (built from ``ivr.config`` by the wiring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ivr.core.types import Expectation


class AnswerKind(StrEnum):
    """How an answer ends: closed answers as soon as they are complete and stable, digits
    across pauses, open answers after a pause, long open answers (feedback, describing a
    problem) after a longer one."""

    YES_NO = "yes_no"
    DIGITS = "digits"
    RATING = "rating"
    OPEN = "open"
    OPEN_LONG = "open_long"

    @classmethod
    def of(cls, expect: Expectation | None, long_answer: bool = False) -> AnswerKind:
        if expect is None or expect is Expectation.OPEN:
            return cls.OPEN_LONG if long_answer else cls.OPEN
        return cls(expect.value)


@dataclass(frozen=True, slots=True)
class AnswerTiming:
    """``end_silence_ms`` of silence ends an answer; ``complete_silence_ms`` ends it once what
    the recognizer has heard so far is already a complete answer (a grammar phrase, four
    digits, a closing phrase)."""

    end_silence_ms: int
    complete_silence_ms: int

    def __post_init__(self) -> None:
        if not 0 < self.complete_silence_ms <= self.end_silence_ms:
            raise ValueError("need 0 < complete_silence_ms <= end_silence_ms")


DEFAULT_ANSWERS: Mapping[AnswerKind, AnswerTiming] = {
    AnswerKind.YES_NO: AnswerTiming(450, 160),
    AnswerKind.DIGITS: AnswerTiming(450, 160),
    AnswerKind.RATING: AnswerTiming(450, 160),
    AnswerKind.OPEN: AnswerTiming(450, 300),
    AnswerKind.OPEN_LONG: AnswerTiming(1200, 400),
}


@dataclass(frozen=True, slots=True)
class CallPolicy:
    # Caller speech (attributed to the caller by the barge-in gate) this long, with words
    # recognized, stops an interruptible prompt; this much stops it even without words.
    barge_in_ms: int = 250
    barge_in_max_ms: int = 700
    no_input_s: float = 6.0
    no_input_limit: int = 3
    max_call_s: float = 900.0
    # Outbound: greet this long after answer if the callee says nothing; greet at the latest
    # this long after the callee started talking.
    callee_silence_s: float = 1.5
    callee_speech_s: float = 5.0
    # Digits: the answer is whole at this many digits or '#'; a pause this long ends it.
    digits_length: int = 4
    inter_digit_s: float = 3.0
    # Speak the opening and the recording notice (SystemPrompt.OPENING, RECORDING_NOTICE) as
    # soon as the call is answered, while the dialogue prepares its first turn; that turn's
    # identical first utterances are skipped.
    early_opening: bool = False
    answers: Mapping[AnswerKind, AnswerTiming] = field(
        default_factory=lambda: dict(DEFAULT_ANSWERS)
    )

    def timing(self, kind: AnswerKind) -> AnswerTiming:
        return self.answers.get(kind, DEFAULT_ANSWERS[kind])
