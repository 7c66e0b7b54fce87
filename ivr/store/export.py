"""JSON-ready views of stored calls for the REST API (ISO-8601 times, enum values)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from ivr.store.records import COUNTERS, CallEvent, CallRecord, JsonDict, TurnRecord


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _fields(obj: Any) -> JsonDict:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def call_summary(call: CallRecord) -> JsonDict:
    """One call without turns and events; counters grouped under ``counters``."""
    out = _fields(call)
    out["counters"] = {name: out.pop(name) for name in sorted(COUNTERS)}
    return out


def call_to_dict(
    call: CallRecord,
    turns: Iterable[TurnRecord] = (),
    events: Iterable[CallEvent] = (),
) -> JsonDict:
    """``call_summary`` plus ``turns`` and ``events`` lists; ``json.dumps``-able as is."""
    out = call_summary(call)
    out["turns"] = [_fields(turn) for turn in turns]
    out["events"] = [_fields(event) for event in events]
    return out
