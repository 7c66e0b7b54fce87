"""A caller's turn as the controller hands it on: its transcript, and what the dialogue
receives with it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ivr.call.model import CallContext, dialogue_metadata
from ivr.dialogue.keypad import AGENT
from ivr.store.records import TurnSource

NO_MATCH_MESSAGE = "/nlu_fallback"


@dataclass(frozen=True, slots=True)
class CallerTurn:
    text: str
    source: TurnSource
    confidence: float | None = None
    asr_ms: float | None = None
    barge_in: bool = False
    last_voiced_at: float | None = None


def keyed(message: str, digit: str) -> str:
    """How a keypad answer appears in the transcript: ``[1]``, ``[0]``."""
    return "[0]" if message == AGENT else f"[{digit}]"


def message_metadata(call: CallContext | None, caller: CallerTurn | None) -> dict[str, str]:
    """The call's facts, plus the recognizer's mean word confidence for a spoken answer."""
    meta = dialogue_metadata(call) if call is not None else {}
    if caller is not None and caller.confidence is not None:
        meta["asr_confidence"] = json.dumps(caller.confidence)
    return meta
