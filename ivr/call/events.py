"""Events into the call controller. ``at`` is seconds on the call's (injected) clock."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.call.model import CallContext, Timer
from ivr.call.prompts import SystemPrompt
from ivr.core.types import CallOutcome
from ivr.dialogue.turns import BotTurn


@dataclass(frozen=True, slots=True)
class CallStarted:
    at: float
    call: CallContext


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The endpointer confirmed speech (an utterance is open in the recognizer)."""

    at: float


@dataclass(frozen=True, slots=True)
class SpeechActivity:
    """While an utterance is open: how long it has lasted and how much of it the barge-in gate
    attributed to the caller (not the bot's own echo)."""

    at: float
    speech_ms: int
    caller_ms: int


@dataclass(frozen=True, slots=True)
class PartialText:
    at: float
    text: str


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """The endpointer saw the end of the utterance; ``last_voiced_at`` is the end of its last
    voiced frame (the reference point of turn latency)."""

    at: float
    last_voiced_at: float


@dataclass(frozen=True, slots=True)
class Transcribed:
    """The recognizer's final text for the utterance (raw: may hold ``[unk]``)."""

    at: float
    text: str
    confidence: float | None = None
    asr_ms: float | None = None
    error: str | None = None  # an error code when recognition failed


@dataclass(frozen=True, slots=True)
class DigitPressed:
    at: float
    digit: str


@dataclass(frozen=True, slots=True)
class AudioStarted:
    """The first frame of bot turn ``seq`` left for the caller."""

    at: float
    seq: int
    tts_ms: float | None = None


@dataclass(frozen=True, slots=True)
class AudioFinished:
    """Bot turn ``seq`` was played up to its end (or stopped, or could not be played)."""

    at: float
    seq: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DialogueReplied:
    at: float
    turn: BotTurn
    elapsed_ms: float


@dataclass(frozen=True, slots=True)
class DialogueFailed:
    at: float
    error: str


@dataclass(frozen=True, slots=True)
class IdentityChecked:
    """The identity verifier's answer for the collected ID digits: the dialogue message to
    send, and whether the caller is now verified (None: the dialogue decides)."""

    at: float
    message: str
    verified: bool | None = None


@dataclass(frozen=True, slots=True)
class TimerFired:
    at: float
    timer: Timer


@dataclass(frozen=True, slots=True)
class HandoffFinished:
    """The agent handoff is over: end with ``outcome``, after ``prompt`` if given; or, with
    ``resume``, send that message to the dialogue and go on (no agent: ask for a callback)."""

    at: float
    outcome: CallOutcome
    prompt: SystemPrompt | None = None
    resume: str | None = None


@dataclass(frozen=True, slots=True)
class HungUp:
    """The provider ended the stream (the caller hung up, or the call left the bot);
    ``error``: it was closed for misbehaviour (the call fails with this code)."""

    at: float
    reason: str = "stream_stopped"
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Crashed:
    """A part of the call (playback, a task) failed unexpectedly: end the call as failed."""

    at: float
    part: str


@dataclass(frozen=True, slots=True)
class Shutdown:
    """The IVR is stopping: end at once, without blaming the caller."""

    at: float


CallEvent = (
    CallStarted | SpeechStarted | SpeechActivity | PartialText | SpeechStopped | Transcribed
    | DigitPressed | AudioStarted | AudioFinished | DialogueReplied | DialogueFailed
    | IdentityChecked | TimerFired | HandoffFinished | HungUp | Crashed | Shutdown
)
