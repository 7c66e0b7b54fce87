"""How a stored call absorbs a second ``create_call`` or an ``update_call`` (pure functions).

A call is created from either side -- the provider's status callback or the media stream --
in either order, so a repeated create merges instead of failing or duplicating:

* a field the new record leaves ``None`` keeps its stored value, others are overwritten;
* ``started_at`` keeps the earliest known time; counters keep the larger value;
* ``details`` are merged key by key (new keys win);
* ``status`` never moves backwards in the provider lifecycle (a late ``ringing`` callback
  does not undo ``completed``); this also holds for ``update_call``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ivr.core.errors import StoreError
from ivr.store.records import CALL_FIELDS, COUNTERS, CallRecord

_STATUS_RANK = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "answered": 3,
    "completed": 4,
    "busy": 4,
    "failed": 4,
    "no-answer": 4,
    "canceled": 4,
}
UPDATABLE = frozenset(CALL_FIELDS) - {"call_sid"}


def next_status(current: str | None, new: str | None) -> str | None:
    if new is None:
        return current
    if current is None:
        return new
    old_rank, new_rank = _STATUS_RANK.get(current), _STATUS_RANK.get(new)
    if old_rank is not None and new_rank is not None and new_rank < old_rank:
        return current
    return new


def merge_create(stored: CallRecord, new: CallRecord) -> CallRecord:
    """The stored call after a second ``create_call`` with the same sid."""
    changes: dict[str, Any] = {}
    for name in CALL_FIELDS:
        old_value, new_value = getattr(stored, name), getattr(new, name)
        if name in COUNTERS:
            changes[name] = max(old_value, new_value)
        elif name == "details":
            changes[name] = {**old_value, **new_value}
        elif name == "status":
            changes[name] = next_status(old_value, new_value)
        elif name == "started_at" and old_value is not None and new_value is not None:
            changes[name] = min(old_value, new_value)
        elif new_value is not None:
            changes[name] = new_value
    return dataclasses.replace(stored, **changes)


def apply_update(stored: CallRecord, fields: Mapping[str, object]) -> CallRecord:
    """The stored call after ``update_call(**fields)``; unknown field names are an error."""
    unknown = sorted(set(fields) - UPDATABLE)
    if unknown:
        raise StoreError(f"unknown call field(s): {', '.join(unknown)}")
    changes = dict(fields)
    if "details" in changes:
        details = changes["details"]
        if not isinstance(details, dict):
            raise StoreError(f"details must be a dict, got {details!r}")
        changes["details"] = {**stored.details, **details}
    if "status" in changes:
        status = changes["status"]
        if status is not None and not isinstance(status, str):
            raise StoreError(f"status must be a string, got {status!r}")
        changes["status"] = next_status(stored.status, status)
    return dataclasses.replace(stored, **changes)  # type: ignore[arg-type]
