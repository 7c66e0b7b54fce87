"""Conversion between records and database rows (JSON as text; times as aware datetimes,
which SQLite stores as ISO-8601 UTC text and PostgreSQL as ``timestamptz``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ivr.core.errors import StoreError
from ivr.core.types import CallOutcome, Expectation, Language, Priority
from ivr.store.db import Row
from ivr.store.records import (
    CALL_FIELDS,
    COUNTERS,
    CallEvent,
    CallRecord,
    Direction,
    JsonDict,
    Role,
    TurnRecord,
    TurnSource,
)
from ivr.store.sanitize import enum_value

TURN_COLUMNS: tuple[str, ...] = tuple(TurnRecord.__dataclass_fields__)
EVENT_COLUMNS: tuple[str, ...] = ("id", "call_sid", "at", "kind", "code", "detail")


def time_to_db(value: datetime | None) -> str | None:
    """SQLite's form of a time: fixed-width UTC text, so text order is time order."""
    return None if value is None else value.isoformat(timespec="microseconds")


def time_from_db(value: str | datetime | None) -> datetime | None:
    """A stored time (SQLite text or a PostgreSQL ``timestamptz``) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value)


def _to_db(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _json(value: str) -> JsonDict:
    loaded = json.loads(value)
    if not isinstance(loaded, dict):
        raise StoreError(f"stored JSON is not an object: {value[:80]!r}")
    return loaded


def call_values(rec: CallRecord) -> tuple[Any, ...]:
    return tuple(_to_db(getattr(rec, name)) for name in CALL_FIELDS)


def turn_values(turn: TurnRecord) -> tuple[Any, ...]:
    return tuple(_to_db(getattr(turn, name)) for name in TURN_COLUMNS)


def event_values(event: CallEvent) -> tuple[Any, ...]:
    return tuple(_to_db(getattr(event, name)) for name in EVENT_COLUMNS[1:])


def call_from_row(row: Row) -> CallRecord:
    try:
        return CallRecord(
            call_sid=row["call_sid"],
            provider=row["provider"],
            direction=enum_value(Direction, row["direction"], "direction"),
            from_masked=row["from_masked"],
            to_masked=row["to_masked"],
            language=enum_value(Language, row["language"], "language"),
            customer_id=row["customer_id"],
            status=row["status"],
            outcome=enum_value(CallOutcome, row["outcome"], "outcome"),
            started_at=time_from_db(row["started_at"]),
            answered_at=time_from_db(row["answered_at"]),
            ended_at=time_from_db(row["ended_at"]),
            stream_sid=row["stream_sid"],
            escalation_reason=row["escalation_reason"],
            escalation_priority=enum_value(Priority, row["escalation_priority"], "priority"),
            error_code=row["error_code"],
            details=_json(row["details"]),
            worker=row["worker"],
            **{name: int(row[name]) for name in COUNTERS},
        )
    except (ValueError, TypeError) as err:
        raise StoreError(f"corrupt call row {row['call_sid']!r}: {err}") from err


def turn_from_row(row: Row) -> TurnRecord:
    role = enum_value(Role, row["role"], "role")
    source = enum_value(TurnSource, row["source"], "source")
    if role is None or source is None:
        raise StoreError(f"corrupt turn row {row['call_sid']!r}/{row['seq']}")
    return TurnRecord(
        call_sid=row["call_sid"],
        seq=int(row["seq"]),
        role=role,
        text=row["text"],
        source=source,
        expectation=enum_value(Expectation, row["expectation"], "expectation"),
        started_at=time_from_db(row["started_at"]),
        ended_at=time_from_db(row["ended_at"]),
        asr_ms=row["asr_ms"],
        dialogue_ms=row["dialogue_ms"],
        tts_ms=row["tts_ms"],
        latency_ms=row["latency_ms"],
        barge_in=bool(row["barge_in"]),
        interrupted=bool(row["interrupted"]),
        confidence=row["confidence"],
    )


def event_from_row(row: Row) -> CallEvent:
    return CallEvent(
        id=int(row["id"]),
        call_sid=row["call_sid"],
        at=time_from_db(row["at"]),
        kind=row["kind"],
        code=row["code"],
        detail=_json(row["detail"]),
    )
