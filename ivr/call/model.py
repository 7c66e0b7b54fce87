"""What the call controller knows about a call: its identity, its state, its timers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ivr.core.types import Language


@dataclass(frozen=True, slots=True)
class CallContext:
    """The call as the controller sees it (provider-neutral)."""

    call_id: str
    language: Language
    customer_id: str | None = None
    outbound: bool = False
    # Facts the dialogue receives with every message (customer_*, campaign_* keys).
    metadata: Mapping[str, str] = field(default_factory=dict)


def dialogue_metadata(call: CallContext) -> dict[str, str]:
    """What the dialogue receives with every message of this call."""
    meta = dict(call.metadata)
    meta.update(call_sid=call.call_id, language=call.language.value)
    if call.customer_id:
        meta["customer_id"] = call.customer_id
    return meta


class State(StrEnum):
    STARTING = "starting"  # no CallStarted yet
    AWAIT_CALLEE = "await_callee"  # outbound: the callee speaks first (or stays silent)
    THINKING = "thinking"  # waiting for the dialogue or the identity check
    SPEAKING = "speaking"  # a bot turn is being played
    LISTENING = "listening"  # waiting for (or hearing) the caller's answer
    ON_HOLD = "on_hold"  # handed to the agent queue
    ENDED = "ended"  # the one fact that the call is over


class ListenMode(StrEnum):
    IGNORE = "ignore"  # bot thinking, or speaking a prompt that must not be cut
    BARGE = "barge"  # bot speaking an interruptible prompt: speech may interrupt it
    LISTEN = "listen"  # waiting for the caller's answer


class Timer(StrEnum):
    NO_INPUT = "no_input"
    INTER_DIGIT = "inter_digit"
    MAX_DURATION = "max_duration"
    CALLEE_SILENCE = "callee_silence"  # outbound: greet if the callee says nothing
    CALLEE_SPEECH = "callee_speech"  # outbound: greet even if the callee keeps talking
