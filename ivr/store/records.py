"""Typed records the store persists: one call, its turns and its events.

Times are timezone-aware UTC datetimes. Text that may hold personal data is masked by the
store on write (see ``ivr.store.sanitize``), whatever the caller passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ivr.core.types import CallOutcome, Expectation, Language, Priority

JsonDict = dict[str, Any]


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Counter(StrEnum):
    """Per-call counters, incremented with ``CallStore.increment``."""

    TURNS = "turns"
    NO_MATCH = "no_match"
    NO_INPUT = "no_input"
    BARGE_INS = "barge_ins"
    WIRE_ERRORS = "wire_errors"


class Role(StrEnum):
    CALLER = "caller"
    BOT = "bot"


class TurnSource(StrEnum):
    SPEECH = "speech"
    DTMF = "dtmf"
    SYSTEM = "system"  # a prompt of the IVR itself (no-input, errors, ...)
    DIALOGUE = "dialogue"  # a bot turn decided by the dialogue manager


class EventKind(StrEnum):
    """Known event kinds; ``CallEvent.kind`` also accepts any other short string."""

    STATUS_CALLBACK = "status_callback"
    WIRE_ERROR = "wire_error"
    ERROR = "error"
    DTMF = "dtmf"
    MARK = "mark"
    HANDOFF = "handoff"
    HANGUP = "hangup"


@dataclass(slots=True)
class CallRecord:
    """One call. ``None`` means "not known (yet)"; ``create_call`` merges non-null fields."""

    call_sid: str
    provider: str | None = None
    direction: Direction | None = None
    from_masked: str | None = None
    to_masked: str | None = None
    language: Language | None = None
    customer_id: str | None = None
    status: str | None = None
    outcome: CallOutcome | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    stream_sid: str | None = None
    turns: int = 0
    no_match: int = 0
    no_input: int = 0
    barge_ins: int = 0
    wire_errors: int = 0
    escalation_reason: str | None = None
    escalation_priority: Priority | None = None
    error_code: str | None = None
    details: JsonDict = field(default_factory=dict)
    worker: str | None = None  # the IVR worker holding the call's media (several workers)


@dataclass(slots=True)
class TurnRecord:
    """One caller or bot turn. ``seq`` None (or 0) lets the store assign the next number."""

    call_sid: str
    role: Role
    text: str
    seq: int | None = None
    source: TurnSource = TurnSource.SPEECH
    expectation: Expectation | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    asr_ms: float | None = None
    dialogue_ms: float | None = None
    tts_ms: float | None = None
    latency_ms: float | None = None  # caller's last voiced frame -> first bot audio frame
    barge_in: bool = False
    interrupted: bool = False
    confidence: float | None = None


@dataclass(slots=True)
class CallEvent:
    """Something that happened on a call; ``detail`` is JSON and masked on write."""

    call_sid: str
    kind: str
    at: datetime | None = None  # None: the store stamps the current time
    code: str | None = None
    detail: JsonDict = field(default_factory=dict)
    id: int | None = None


COUNTERS: frozenset[str] = frozenset(c.value for c in Counter)
CALL_FIELDS: tuple[str, ...] = tuple(CallRecord.__dataclass_fields__)
