"""create_call is idempotent and merges: status callbacks and media stream in either order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.core.errors import StoreError
from ivr.core.types import CallOutcome, Language
from ivr.store import CallRecord, Direction, SqliteCallStore
from ivr.store.merge import apply_update, merge_create, next_status

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCallStore]:
    async with await SqliteCallStore.open(tmp_path / "calls.db") as opened:
        yield opened


def from_status_callback() -> CallRecord:
    return CallRecord(
        call_sid="CA1",
        provider="twilio",
        direction=Direction.OUTBOUND,
        from_masked="+8610000000",
        to_masked="+8613812345678",
        status="ringing",
        started_at=T0,
        details={"campaign": "pre_review"},
    )


def from_media_stream() -> CallRecord:
    return CallRecord(
        call_sid="CA1",
        language=Language.ZH,
        customer_id="cust-7",
        stream_sid="MZ9",
        status="in-progress",
        started_at=T0 + timedelta(seconds=8),
        details={"campaign": "pre_review_v2", "attempt": 2},
    )


def assert_merged(call: CallRecord | None) -> None:
    assert call is not None
    assert call.provider == "twilio" and call.direction is Direction.OUTBOUND
    assert call.to_masked == "+86138****5678"
    assert call.stream_sid == "MZ9" and call.customer_id == "cust-7"
    assert call.language is Language.ZH
    assert call.status == "in-progress"  # never back to ringing
    assert call.started_at == T0  # the earliest known start


async def test_status_callback_then_media_stream(store: SqliteCallStore) -> None:
    await store.create_call(from_status_callback())
    merged = await store.create_call(from_media_stream())
    assert_merged(merged)
    assert merged == await store.get_call("CA1")
    assert merged.details == {"campaign": "pre_review_v2", "attempt": 2}


async def test_media_stream_then_status_callback(store: SqliteCallStore) -> None:
    await store.create_call(from_media_stream())
    merged = await store.create_call(from_status_callback())
    assert_merged(merged)
    assert merged.details == {"campaign": "pre_review", "attempt": 2}


async def test_repeated_create_never_duplicates_or_resets(store: SqliteCallStore) -> None:
    await store.create_call(from_status_callback())
    await store.increment("CA1", "no_input", by=2)
    for _ in range(3):
        await store.create_call(from_status_callback())
    calls = await store.list_calls()
    assert [c.call_sid for c in calls] == ["CA1"]
    assert calls[0].no_input == 2


async def test_terminal_status_survives_late_callbacks(store: SqliteCallStore) -> None:
    await store.create_call(CallRecord(call_sid="CA1", status="completed"))
    await store.create_call(CallRecord(call_sid="CA1", status="ringing"))
    call = await store.update_call("CA1", status="in-progress")
    assert call.status == "completed"
    call = await store.update_call("CA1", status="busy")  # terminal to terminal is allowed
    assert call.status == "busy"


@pytest.mark.parametrize(
    ("current", "new", "result"),
    [
        (None, "ringing", "ringing"),
        ("ringing", None, "ringing"),
        ("ringing", "in-progress", "in-progress"),
        ("in-progress", "ringing", "in-progress"),
        ("completed", "initiated", "completed"),
        ("completed", "failed", "failed"),
        ("ringing", "some-new-status", "some-new-status"),
        ("some-new-status", "ringing", "ringing"),
    ],
)
def test_next_status(current: str | None, new: str | None, result: str | None) -> None:
    assert next_status(current, new) == result


def test_merge_create_keeps_larger_counters_and_overwrites_non_null() -> None:
    stored = CallRecord(call_sid="CA1", turns=4, outcome=CallOutcome.ABANDONED, status="ringing")
    merged = merge_create(stored, CallRecord(call_sid="CA1", turns=1, outcome=None, no_match=2))
    assert (merged.turns, merged.no_match, merged.outcome) == (4, 2, CallOutcome.ABANDONED)


def test_apply_update_rejects_unknown_names_and_bad_details() -> None:
    stored = CallRecord(call_sid="CA1")
    with pytest.raises(StoreError, match="bogus, worse"):
        apply_update(stored, {"worse": 1, "bogus": 2})
    with pytest.raises(StoreError, match="details"):
        apply_update(stored, {"details": ["not", "a", "dict"]})
