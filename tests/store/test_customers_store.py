"""The SQLite customer store: round trips, upsert, phone lookup, follow-ups, ID checks."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest

from ivr.core.errors import StoreError
from ivr.customers.identity import IdOutcome, IdPolicy
from ivr.customers.model import (
    ActivationStatus,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    IdLock,
)
from ivr.store.customers import CustomerStore, SqliteCustomerStore
from ivr.store.migrations import LATEST_VERSION, migrate
from ivr.store.sqlite import SqliteCallStore
from tests.customers.customer_samples import HASHER, NOW, PHONE, customer


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCustomerStore]:
    async with await SqliteCustomerStore.open(tmp_path / "ivr.db") as opened:
        yield opened


def task(**overrides: object) -> FollowUp:
    values: dict[str, object] = {
        "kind": FollowUpKind.PAYMENT_INVESTIGATION, "call_sid": "CA1", "customer_id": "c-001",
        "detail": "payment failed, card 6222021234567890123", "due_at": NOW + timedelta(hours=24),
        "created_at": NOW,
    }
    values.update(overrides)
    return FollowUp(**values)  # type: ignore[arg-type]


async def test_satisfies_interface(store: SqliteCustomerStore) -> None:
    assert isinstance(store, CustomerStore)


async def test_round_trip_keeps_every_field(store: SqliteCustomerStore) -> None:
    original = customer()
    assert await store.upsert_customers([original]) == (1, 0)
    assert await store.get_customer("c-001") == original
    assert await store.get_customer("nobody") is None


async def test_upsert_replaces_by_customer_id(store: SqliteCustomerStore) -> None:
    await store.upsert_customers([customer(), customer(customer_id="c-002")])
    changed = customer(activation_status=ActivationStatus.ACTIVE, missing_documents=())
    assert await store.upsert_customers([changed, customer(customer_id="c-003")]) == (1, 1)
    stored = await store.get_customer("c-001")
    assert stored is not None
    assert stored.activation_status is ActivationStatus.ACTIVE
    assert stored.missing_documents == ()
    assert [c.customer_id for c in await store.list_customers()] == ["c-001", "c-002", "c-003"]
    assert [c.customer_id for c in await store.list_customers(limit=1, offset=1)] == ["c-002"]


async def test_find_by_phone(store: SqliteCustomerStore) -> None:
    await store.upsert_customers([customer(), customer(customer_id="c-2", phone="+447700900123")])
    assert [c.customer_id for c in await store.find_by_phone(PHONE)] == ["c-001"]
    assert await store.find_by_phone("+8613800000000") == []


def test_repr_hides_phone_id_and_email() -> None:
    text = repr(customer())
    assert "13812345678" not in text and "123X" not in text and "zhang.wei" not in text


async def test_followups_are_masked_listed_and_completed(store: SqliteCustomerStore) -> None:
    first = await store.add_followup(task())
    assert first.id is not None
    assert first.detail == "payment failed, card ***************0123"
    second = await store.add_followup(task(kind=FollowUpKind.FRAUD_REPORT, call_sid="CA2",
                                           due_at=NOW + timedelta(hours=1)))
    assert [t.id for t in await store.list_followups()] == [second.id, first.id]  # due first
    assert [t.id for t in await store.list_followups(call_sid="CA1")] == [first.id]
    done = await store.complete_followup(second.id or 0, owner="agent-7")
    assert done is not None and done.status is FollowUpStatus.DONE and done.owner == "agent-7"
    assert done.done_at is not None
    again = await store.complete_followup(second.id or 0)  # idempotent, keeps owner and time
    assert again == done
    assert [t.id for t in await store.list_followups(FollowUpStatus.OPEN)] == [first.id]
    assert [t.id for t in await store.list_followups(FollowUpStatus.DONE)] == [second.id]
    assert await store.get_followup(first.id) == first
    assert await store.complete_followup(999) is None


async def test_followup_validation(store: SqliteCustomerStore) -> None:
    with pytest.raises(StoreError):
        await store.add_followup(task(due_at=NOW.replace(tzinfo=None)))
    with pytest.raises(StoreError):
        await store.add_followup(task(kind="nonsense"))
    with pytest.raises(StoreError):
        await store.list_followups(limit=0)


async def test_id_failures_count_per_customer(store: SqliteCustomerStore) -> None:
    policy = IdPolicy(max_failures=2, cooldown_s=600)
    assert await store.id_lock("c-001") == IdLock()
    first = await store.record_id_attempt("c-001", False, NOW, policy)
    assert first.outcome is IdOutcome.MISMATCH and first.attempts_left == 1
    assert (await store.id_lock("c-001")).failures == 1
    second = await store.record_id_attempt("c-001", True, NOW + timedelta(seconds=5), policy)
    assert second.outcome is IdOutcome.VERIFIED
    assert await store.id_lock("c-001") == IdLock()
    await store.record_id_attempt("c-001", False, NOW, policy)
    locked = await store.record_id_attempt("c-001", False, NOW, policy)
    assert locked.outcome is IdOutcome.LOCKED and locked.newly_locked
    assert (await store.id_lock("c-001")).locked_until == NOW + timedelta(seconds=600)
    assert (await store.record_id_attempt("c-002", False, NOW, policy)).attempts_left == 1


async def test_plain_id_digits_are_never_stored(store: SqliteCustomerStore) -> None:
    with pytest.raises(StoreError, match="plain ID digits"):
        await store.upsert_customers([customer(plain=True)])
    await store.upsert_customers([customer()])
    stored = await store.get_customer("c-001")
    assert stored is not None and stored.id_last4 is None and stored.id_ends_with_x
    assert stored.id_hash == HASHER.hash("c-001", "123X")
    rows = await store._db.fetch("SELECT id_last4 FROM customers")
    assert [r[0] for r in rows] == [None]


async def test_shares_the_call_store_file(tmp_path: Path) -> None:
    path = tmp_path / "ivr.db"
    async with await SqliteCallStore.open(path), await SqliteCustomerStore.open(path) as store:
        await store.upsert_customers([customer()])
    async with await SqliteCustomerStore.open(path) as reopened:
        assert await reopened.get_customer("c-001") == customer()


async def test_migrates_a_version_2_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=2) == 2
    async with await SqliteCustomerStore.open(path) as store:
        await store.upsert_customers([customer()])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (
            LATEST_VERSION,)
    assert LATEST_VERSION >= 3


async def test_corrupt_row_raises_store_error(store: SqliteCustomerStore, tmp_path: Path) -> None:
    await store.upsert_customers([customer()])
    with sqlite3.connect(tmp_path / "ivr.db") as conn:
        conn.execute("UPDATE customers SET language = 'fr'")
    with pytest.raises(StoreError, match="corrupt customer row"):
        await store.get_customer("c-001")


def test_customer_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        customer().name = "x"  # type: ignore[misc]
