"""The call store contract on SQLite and PostgreSQL: round trips, masking, errors, REST view."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ivr.core.errors import ErrorCode, StoreError
from ivr.core.types import CallOutcome, Expectation, Language, Priority
from ivr.store import (
    CallEvent,
    CallRecord,
    CallStore,
    Counter,
    Direction,
    EventKind,
    Role,
    TurnRecord,
    TurnSource,
    call_to_dict,
)
from ivr.store.factory import Stores, StoreTarget, open_stores

T0 = datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def store(stores: Stores) -> CallStore:
    return stores.calls


def full_call(sid: str = "CA1") -> CallRecord:
    return CallRecord(
        call_sid=sid,
        provider="twilio",
        direction=Direction.OUTBOUND,
        from_masked="+8613812345678",
        to_masked="+8613912345678",
        language=Language.ZH,
        customer_id="cust-42",
        status="in-progress",
        outcome=CallOutcome.ESCALATED,
        started_at=T0,
        answered_at=T0 + timedelta(seconds=5),
        ended_at=T0 + timedelta(minutes=3),
        stream_sid="MZ1",
        turns=3,
        escalation_reason="rating_low",
        escalation_priority=Priority.HIGH,
        error_code="dialogue_timeout",
        details={"rating": 2, "faq_topics": ["payment_failure"], "confirmed": {"name": True}},
    )


async def test_store_satisfies_interface(store: CallStore) -> None:
    assert isinstance(store, CallStore)


async def test_call_round_trip(store: CallStore) -> None:
    created = await store.create_call(full_call())
    loaded = await store.get_call("CA1")
    assert loaded == created
    assert loaded is not None
    assert loaded.from_masked == "+86138****5678"
    assert loaded.to_masked == "+86139****5678"
    assert loaded.outcome is CallOutcome.ESCALATED and loaded.language is Language.ZH
    assert loaded.direction is Direction.OUTBOUND and loaded.escalation_priority is Priority.HIGH
    assert loaded.started_at == T0 and loaded.started_at.tzinfo is not None
    assert loaded.details["faq_topics"] == ["payment_failure"]
    assert await store.get_call("nope") is None


async def test_create_minimal_call_stamps_start_time(store: CallStore) -> None:
    before = datetime.now(UTC)
    created = await store.create_call(CallRecord(call_sid="CA2"))
    assert created.started_at is not None and created.started_at >= before
    assert created.turns == 0 and created.details == {}


async def test_non_utc_times_are_stored_as_utc(store: CallStore) -> None:
    shanghai = T0.astimezone(timezone(timedelta(hours=8)))
    stored = await store.create_call(CallRecord(call_sid="CA3", started_at=shanghai))
    assert stored.started_at == T0 and stored.started_at.utcoffset() == timedelta(0)


async def test_update_call_sets_fields_and_merges_details(store: CallStore) -> None:
    await store.create_call(full_call())
    updated = await store.update_call(
        "CA1",
        outcome=CallOutcome.COMPLETED,
        language="en",
        details={"rating": 5, "feedback": "call me on 13812345678"},
        escalation_reason=None,
    )
    loaded = await store.get_call("CA1")
    assert loaded == updated
    assert loaded.outcome is CallOutcome.COMPLETED and loaded.language is Language.EN
    assert loaded.escalation_reason is None
    assert loaded.details == {
        "rating": 5,
        "faq_topics": ["payment_failure"],
        "confirmed": {"name": True},
        "feedback": "call me on *******5678",
    }


async def test_update_call_rejects_unknown_fields_and_bad_values(store: CallStore) -> None:
    before = await store.create_call(full_call())
    with pytest.raises(StoreError, match="unknown call field") as info:
        await store.update_call("CA1", colour="red")
    assert info.value.code is ErrorCode.STORE_FAILED
    with pytest.raises(StoreError, match="unknown call field"):
        await store.update_call("CA1", call_sid="CA9")
    with pytest.raises(StoreError, match="outcome"):
        await store.update_call("CA1", outcome="exploded")
    with pytest.raises(StoreError, match="timezone-aware"):
        await store.update_call("CA1", ended_at=datetime(2024, 5, 1, 10, 0))
    with pytest.raises(StoreError, match="non-negative int"):
        await store.update_call("CA1", turns="many")
    with pytest.raises(StoreError, match="unknown call"):
        await store.update_call("missing", status="completed")
    assert await store.get_call("CA1") == before  # nothing half-applied


async def test_counters(store: CallStore) -> None:
    await store.create_call(CallRecord(call_sid="CA1"))
    assert await store.increment("CA1", Counter.NO_MATCH) == 1
    assert await store.increment("CA1", "no_match", by=2) == 3
    assert await store.increment("CA1", Counter.BARGE_INS) == 1
    assert await store.increment("CA1", Counter.WIRE_ERRORS, by=-5) == 0  # never negative
    call = await store.get_call("CA1")
    assert call is not None
    assert (call.no_match, call.barge_ins, call.no_input, call.turns) == (3, 1, 0, 0)
    with pytest.raises(StoreError, match="unknown counter"):
        await store.increment("CA1", "rating")
    with pytest.raises(StoreError, match="unknown call"):
        await store.increment("missing", Counter.TURNS)


async def test_turn_round_trip_masks_text_and_numbers_seq(store: CallStore) -> None:
    await store.create_call(CallRecord(call_sid="CA1"))
    first = TurnRecord(
        call_sid="CA1",
        role=Role.BOT,
        text="请问是张先生吗?",
        source=TurnSource.SYSTEM,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=2),
        tts_ms=120.5,
    )
    second = TurnRecord(
        call_sid="CA1",
        role=Role.CALLER,
        text="我的卡号是 幺 三 八 一 二 三 四 五 六 七 八",
        expectation=Expectation.DIGITS,
        asr_ms=80,
        dialogue_ms=200.0,
        latency_ms=640.0,
        barge_in=True,
        interrupted=False,
        confidence=0.87,
    )
    assert await store.add_turn(first) == 1
    assert await store.add_turn(second) == 2
    assert await store.add_turn(TurnRecord("CA1", Role.BOT, "好的", seq=10)) == 10
    assert await store.add_turn(TurnRecord("CA1", Role.BOT, "再见")) == 11
    assert await store.add_turn(TurnRecord("CA1", Role.BOT, "seq 0 means assign", seq=0)) == 12
    turns = await store.get_turns("CA1")
    assert [t.seq for t in turns] == [1, 2, 10, 11, 12]
    assert turns[0].started_at == T0 and turns[0].tts_ms == 120.5 and turns[0].role is Role.BOT
    assert turns[1].text == "我的卡号是 * * * * * * * 五 六 七 八"
    assert turns[1].barge_in is True and turns[1].interrupted is False
    assert turns[1].expectation is Expectation.DIGITS and turns[1].source is TurnSource.SPEECH
    assert turns[1].latency_ms == 640.0 and turns[1].confidence == 0.87
    with pytest.raises(StoreError):
        await store.add_turn(TurnRecord("CA1", Role.BOT, "dup", seq=10))
    with pytest.raises(StoreError):  # foreign key: no such call
        await store.add_turn(TurnRecord("missing", Role.BOT, "hi"))
    assert await store.get_turns("missing") == []


async def test_event_round_trip_masks_detail(store: CallStore) -> None:
    await store.create_call(CallRecord(call_sid="CA1"))
    await store.add_event(
        CallEvent("CA1", EventKind.STATUS_CALLBACK, at=T0, detail={"CallStatus": "ringing"})
    )
    event_id = await store.add_event(
        CallEvent(
            "CA1",
            "dtmf",
            at=T0 + timedelta(seconds=1),
            code="digits",
            detail={"digits": "6222021234567890123", "nested": [{"to": "+8613812345678"}]},
        )
    )
    await store.add_event(CallEvent("CA1", EventKind.HANGUP))  # stamped now
    events = await store.get_events("CA1")
    assert [e.kind for e in events] == ["status_callback", "dtmf", "hangup"]
    assert events[1].id == event_id and events[1].code == "digits"
    assert events[1].detail == {
        "digits": "***************0123",
        "nested": [{"to": "+*********5678"}],
    }
    assert events[2].at is not None and events[2].at > T0
    with pytest.raises(StoreError):
        await store.add_event(CallEvent("missing", EventKind.ERROR))
    with pytest.raises(StoreError, match="kind"):
        await store.add_event(CallEvent("CA1", ""))


async def test_list_calls_newest_first_with_paging_and_since(store: CallStore) -> None:
    for i in range(5):
        await store.create_call(CallRecord(call_sid=f"CA{i}", started_at=T0 + timedelta(hours=i)))
    assert [c.call_sid for c in await store.list_calls()] == ["CA4", "CA3", "CA2", "CA1", "CA0"]
    assert [c.call_sid for c in await store.list_calls(limit=2, offset=1)] == ["CA3", "CA2"]
    since = T0 + timedelta(hours=3)
    assert [c.call_sid for c in await store.list_calls(since=since)] == ["CA4", "CA3"]
    with pytest.raises(StoreError):
        await store.list_calls(limit=0)


async def test_call_to_dict_is_json_ready(store: CallStore) -> None:
    await store.create_call(full_call())
    await store.add_turn(TurnRecord("CA1", Role.CALLER, "五分", started_at=T0, latency_ms=700))
    await store.add_event(CallEvent("CA1", EventKind.MARK, at=T0, detail={"name": "p1"}))
    call = await store.get_call("CA1")
    assert call is not None
    data = call_to_dict(call, await store.get_turns("CA1"), await store.get_events("CA1"))
    assert json.loads(json.dumps(data)) == data
    assert store.call_to_dict(call, await store.get_turns("CA1"), []) == {**data, "events": []}
    assert data["started_at"] == "2024-05-01T09:30:00.123456+00:00"
    assert data["outcome"] == "escalated" and data["direction"] == "outbound"
    assert data["counters"] == {
        "barge_ins": 0,
        "no_input": 0,
        "no_match": 0,
        "turns": 3,
        "wire_errors": 0,
    }
    assert data["turns"][0]["role"] == "caller" and data["turns"][0]["text"] == "五分"
    assert data["events"][0]["kind"] == "mark" and data["events"][0]["at"].endswith("+00:00")


async def test_closed_store_refuses_work(target: StoreTarget) -> None:
    stores = await open_stores(target)
    store = stores.calls
    await stores.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        await store.create_call(CallRecord(call_sid="CA1"))
    with pytest.raises(StoreError, match="closed"):
        await store.get_call("CA1")


async def test_plain_string_enum_values_are_coerced(store: CallStore) -> None:
    await store.create_call(CallRecord(call_sid="CA1"))
    turn = TurnRecord("CA1", "caller", "yes", source="dtmf", expectation="yes_no")  # type: ignore[arg-type]
    await store.add_turn(turn)
    await store.update_call("CA1", escalation_priority="urgent", direction="inbound")
    stored_turn = (await store.get_turns("CA1"))[0]
    assert stored_turn.role is Role.CALLER and stored_turn.source is TurnSource.DTMF
    assert stored_turn.expectation is Expectation.YES_NO
    call = await store.get_call("CA1")
    assert call is not None and call.escalation_priority is Priority.URGENT
    with pytest.raises(StoreError, match="role"):
        await store.add_turn(TurnRecord("CA1", "robot", "x"))  # type: ignore[arg-type]


async def test_live_calls_of_a_worker(store: CallStore) -> None:
    await store.create_call(CallRecord(call_sid="CA1", worker="A", started_at=T0))
    await store.create_call(CallRecord(call_sid="CA2", worker="B", started_at=T0))
    await store.create_call(CallRecord(call_sid="CA3", worker="B",
                                       started_at=T0 + timedelta(seconds=1)))
    await store.update_call("CA2", ended_at=T0 + timedelta(minutes=1))
    assert [c.call_sid for c in await store.live_calls("B")] == ["CA3"]
    # the media landing on another worker moves the call there
    await store.create_call(CallRecord(call_sid="CA1", worker="B"))
    assert [c.call_sid for c in await store.live_calls("B")] == ["CA1", "CA3"]
    assert await store.live_calls("A") == []


async def test_two_workers_updating_one_call_lose_nothing(stores: Stores,
                                                          target: StoreTarget) -> None:
    other = await open_stores(target)
    try:
        await stores.calls.create_call(CallRecord(call_sid="CA1", started_at=T0))
        await asyncio.gather(*(
            s.update_call("CA1", details={f"k{n}": n}) for n in range(20)
            for s in ((stores.calls, other.calls)[n % 2],)),
            *(s.increment("CA1", Counter.TURNS) for s in (stores.calls, other.calls) * 5),
            *(s.add_turn(TurnRecord("CA1", Role.BOT, f"t{n}"))
              for n, s in enumerate((stores.calls, other.calls) * 5)))
        call = await other.calls.get_call("CA1")
        assert call is not None
        assert call.details == {f"k{n}": n for n in range(20)}
        assert call.turns == 10
        assert [t.seq for t in await stores.calls.get_turns("CA1")] == list(range(1, 11))
    finally:
        await other.close()
