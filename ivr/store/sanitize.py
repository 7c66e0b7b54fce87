"""Validate and mask records before they are written (defence in depth).

Whatever the caller passes, the store writes phone numbers through ``mask_phone`` and free
text (turn text, escalation reason, every string inside ``details``/``detail``) through
``mask_text``. Both are idempotent, so already-masked values are unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from ivr.core.errors import StoreError
from ivr.core.pii import mask_phone, mask_text
from ivr.core.types import CallOutcome, Expectation, Language, Priority
from ivr.store.records import (
    COUNTERS,
    CallEvent,
    CallRecord,
    Direction,
    JsonDict,
    Role,
    TurnRecord,
    TurnSource,
)

E = TypeVar("E", bound=StrEnum)

_CALL_ENUMS: dict[str, type[StrEnum]] = {
    "direction": Direction,
    "language": Language,
    "outcome": CallOutcome,
    "escalation_priority": Priority,
}
_CALL_TIMES = ("started_at", "answered_at", "ended_at")
_CALL_TEXTS = ("provider", "customer_id", "status", "stream_sid", "error_code", "worker")
_CALL_MASKED: dict[str, Callable[[str], str]] = {
    "from_masked": mask_phone,
    "to_masked": mask_phone,
    "escalation_reason": mask_text,
}


def mask_json(value: Any) -> Any:
    """Mask every string (not keys, not numbers) inside a JSON-like value."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {str(key): mask_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_json(item) for item in value]
    return value


def utc(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise StoreError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def enum_value(kind: type[E], value: object, name: str) -> E | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StoreError(f"invalid {name}: {value!r}")
    try:
        return kind(value)
    except ValueError as err:
        raise StoreError(f"invalid {name}: {value!r}") from err


def _text(value: object, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise StoreError(f"{name} must be a string, got {value!r}")
    return value


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StoreError(f"{name} must be a non-negative int, got {value!r}")
    return value


def _details(value: object, name: str) -> JsonDict:
    if not isinstance(value, dict):
        raise StoreError(f"{name} must be a dict, got {value!r}")
    masked: JsonDict = mask_json(value)
    return masked


def clean_call(rec: CallRecord) -> CallRecord:
    """A validated copy of ``rec``: enums coerced, times in UTC, PII masked."""
    if not isinstance(rec.call_sid, str) or not rec.call_sid:
        raise StoreError(f"call_sid must be a non-empty string, got {rec.call_sid!r}")
    changes: dict[str, Any] = {}
    for name, kind in _CALL_ENUMS.items():
        changes[name] = enum_value(kind, getattr(rec, name), name)
    for name in _CALL_TIMES:
        changes[name] = utc(getattr(rec, name), name)
    for name in _CALL_TEXTS:
        changes[name] = _text(getattr(rec, name), name)
    for name, masker in _CALL_MASKED.items():
        value = _text(getattr(rec, name), name)
        changes[name] = masker(value) if value is not None else None
    for name in COUNTERS:
        changes[name] = _count(getattr(rec, name), name)
    changes["details"] = _details(rec.details, "details")
    return dataclasses.replace(rec, **changes)


def clean_turn(turn: TurnRecord) -> TurnRecord:
    if not isinstance(turn.text, str):
        raise StoreError(f"turn text must be a string, got {turn.text!r}")
    if turn.seq is not None:
        _count(turn.seq, "seq")
    role = enum_value(Role, turn.role, "role")
    source = enum_value(TurnSource, turn.source, "source")
    if role is None or source is None:
        raise StoreError("turn role and source are required")
    return dataclasses.replace(
        turn,
        role=role,
        source=source,
        text=mask_text(turn.text),
        expectation=enum_value(Expectation, turn.expectation, "expectation"),
        started_at=utc(turn.started_at, "started_at"),
        ended_at=utc(turn.ended_at, "ended_at"),
    )


def clean_event(event: CallEvent) -> CallEvent:
    kind = _text(event.kind, "kind")
    if not kind:
        raise StoreError("event kind is required")
    return dataclasses.replace(
        event,
        kind=str(kind),
        at=utc(event.at, "at") or datetime.now(UTC),
        code=_text(event.code, "code"),
        detail=_details(event.detail, "detail"),
    )
