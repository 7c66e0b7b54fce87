"""Commands out of the call controller, executed by the call's driver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.call.model import ListenMode, Timer
from ivr.core.types import CallOutcome, Expectation, Language
from ivr.dialogue.turns import Handoff, Utterance
from ivr.store.records import Role, TurnSource


@dataclass(frozen=True, slots=True)
class Speak:
    """Synthesize and play a bot turn; the driver answers AudioStarted/AudioFinished(seq)."""

    seq: int
    utterances: tuple[Utterance, ...]
    interruptible: bool
    source: TurnSource = TurnSource.DIALOGUE


@dataclass(frozen=True, slots=True)
class SwitchLanguage:
    """Speak (voice, prompts) and recognize (model, grammars) in ``language`` from now on."""

    language: Language


@dataclass(frozen=True, slots=True)
class StopAudio:
    """Barge-in: drop queued bot audio and have the provider drop what it buffered."""


@dataclass(frozen=True, slots=True)
class Listen:
    """What caller speech means now, which answer is expected (the recognizer's grammar) and
    how much silence ends it."""

    mode: ListenMode
    expect: Expectation | None = None
    end_silence_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Recognize:
    """Finish the open utterance in the recognizer; the driver answers ``Transcribed``."""


@dataclass(frozen=True, slots=True)
class DropSpeech:
    """Forget the open utterance (speech that was not an answer, e.g. an echo)."""


@dataclass(frozen=True, slots=True)
class SendToDialogue:
    """The driver answers DialogueReplied or DialogueFailed."""

    message: str
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True, repr=False)
class VerifyIdentity:
    """Check the collected ID digits; the driver answers IdentityChecked."""

    digits: str
    metadata: Mapping[str, str]
    confidence: float | None = None

    def __repr__(self) -> str:
        return f"VerifyIdentity(digits={'*' * len(self.digits)})"


@dataclass(frozen=True, slots=True)
class StartHandoff:
    """Hand the caller to the agent queue; the driver answers HandoffFinished."""

    handoff: Handoff


@dataclass(frozen=True, slots=True)
class RecordTurn:
    role: Role
    text: str
    source: TurnSource
    expectation: Expectation | None = None
    asr_ms: float | None = None
    dialogue_ms: float | None = None
    tts_ms: float | None = None
    latency_ms: float | None = None
    barge_in: bool = False
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class RecordEvent:
    kind: str
    code: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Count:
    counter: str  # a ivr.store.records.Counter value


@dataclass(frozen=True, slots=True)
class UpdateCall:
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer: Timer
    delay_s: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer: Timer


@dataclass(frozen=True, slots=True)
class EndCall:
    """The call is over (issued exactly once). ``drain``: let the caller hear what is already
    queued first. The driver finishes the record with ``outcome`` whatever else fails."""

    outcome: CallOutcome
    reason: str
    drain: bool = True
    error_code: str | None = None


Command = (
    Speak | SwitchLanguage | StopAudio | Listen | Recognize | DropSpeech | SendToDialogue
    | VerifyIdentity | StartHandoff | RecordTurn | RecordEvent | Count | UpdateCall | StartTimer
    | CancelTimer | EndCall
)
