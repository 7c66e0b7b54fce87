"""The IVR's ID check: decision (pure), the caller's answer, the verifier over the store, and
the hashing of stored digits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ivr.call.id_check import IdentityVerifier
from ivr.call.model import CallContext
from ivr.core.types import Language
from ivr.customers.identity import IdOutcome, IdPolicy, IdVerdict, decide, well_formed
from ivr.customers.model import IdLock
from ivr.customers.service import CustomerService
from ivr.store.customers import SqliteCustomerStore
from tests.customers.customer_samples import HASHER, NOW, customer

POLICY = IdPolicy(max_failures=2, cooldown_s=3600, min_confidence=0.5)


def test_decide_counts_across_calls_and_locks_for_the_cooldown() -> None:
    lock, first = decide(IdLock(), False, NOW, POLICY)
    assert first == IdVerdict(IdOutcome.MISMATCH, 1)
    # a later call, still within the window: the second failure locks
    lock, second = decide(lock, False, NOW + timedelta(minutes=30), POLICY)
    assert second == IdVerdict(IdOutcome.LOCKED, 0, newly_locked=True)
    # while locked, even the right answer is not compared
    same, third = decide(lock, True, NOW + timedelta(minutes=40), POLICY)
    assert third == IdVerdict(IdOutcome.LOCKED, 0) and same == lock
    # after the cooldown, a fresh start
    _, later = decide(lock, False, NOW + timedelta(minutes=30, hours=1, seconds=1), POLICY)
    assert later == IdVerdict(IdOutcome.MISMATCH, 1)


def test_decide_forgets_old_failures_and_success_resets() -> None:
    lock, _ = decide(IdLock(), False, NOW, POLICY)
    _, verdict = decide(lock, False, NOW + timedelta(hours=2), POLICY)
    assert verdict.outcome is IdOutcome.MISMATCH
    cleared, ok = decide(lock, True, NOW + timedelta(minutes=1), POLICY)
    assert ok.outcome is IdOutcome.VERIFIED and cleared == IdLock()


def test_verdict_message_carries_no_digits() -> None:
    assert IdVerdict(IdOutcome.MISMATCH, 1).message() == \
        '/id_result{"result":"mismatch","attempts_left":1}'


def test_well_formed() -> None:
    assert well_formed("123X") and well_formed("0000")
    assert not well_formed("12X4") and not well_formed("123") and not well_formed("12345")


class Clock:
    def __init__(self) -> None:
        self.now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCustomerStore]:
    async with await SqliteCustomerStore.open(tmp_path / "ivr.db") as opened:
        await opened.upsert_customers([customer(), customer(customer_id="c-none",
                                                            id_last4=None)])
        yield opened


def call(customer_id: str | None = "c-001", call_id: str = "CA1") -> CallContext:
    return CallContext(call_id, Language.ZH, customer_id)


async def test_verifier_compares_the_keyed_hash(store: SqliteCustomerStore) -> None:
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    assert await verifier.check(call(), "123X", None) == IdVerdict(IdOutcome.VERIFIED, 2)
    assert (await verifier.check(call(), "123x", None)).outcome is IdOutcome.VERIFIED
    assert (await verifier.check(call(), "1234", None)).outcome is IdOutcome.MISMATCH
    assert (await verifier.check(call("c-none"), "0000", None)).outcome is IdOutcome.MISMATCH


async def test_the_dialogue_gets_only_the_outcome(store: SqliteCustomerStore) -> None:
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    outcome = await verifier.verify(call(), "123X", None)
    assert outcome.message == '/id_result{"result":"verified","attempts_left":2}'
    assert outcome.verified is True and "123" not in outcome.message
    wrong = await verifier.verify(call(), "0000", 0.9)
    assert wrong.verified is False and "0000" not in wrong.message


async def test_a_new_call_does_not_reset_the_count(store: SqliteCustomerStore) -> None:
    """Before: failures were counted per call, so hanging up and calling again reset them."""
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    first = await verifier.check(call(call_id="CA1"), "1234", 0.9)
    assert first.outcome is IdOutcome.MISMATCH
    second = await verifier.check(call(call_id="CA2"), "0000", None)
    assert second.outcome is IdOutcome.LOCKED and second.newly_locked
    right = await verifier.check(call(call_id="CA3"), "123X", None)
    assert right.outcome is IdOutcome.LOCKED  # the right answer too


async def test_unclear_answers_are_asked_again_without_counting(
        store: SqliteCustomerStore) -> None:
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    for digits, confidence in (("1234", 0.3), ("123", 0.9), ("12", None), ("12X4", None)):
        verdict = await verifier.check(call(), digits, confidence)
        assert verdict == IdVerdict(IdOutcome.INCOMPLETE, 2)
    assert await store.id_lock("c-001") == IdLock()
    assert (await verifier.check(call(), "123X", 0.9)).outcome is IdOutcome.VERIFIED


async def test_caller_without_a_record_is_limited_per_call(store: SqliteCustomerStore) -> None:
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    unknown = call(None, "CA9")
    assert (await verifier.check(unknown, "1234", 0.9)).outcome is IdOutcome.MISMATCH
    assert (await verifier.check(unknown, "1234", 0.9)).outcome is IdOutcome.LOCKED
    other = await verifier.check(call(None, "CA10"), "1234", 0.9)
    assert other.outcome is IdOutcome.MISMATCH


async def test_plain_digits_from_an_older_version_are_hashed(tmp_path: Path) -> None:
    async with await SqliteCustomerStore.open(tmp_path / "ivr.db") as store:
        await store.upsert_customers([customer(id_last4=None)])
        await store._db.write(lambda conn: conn.execute(  # what version 6 had stored
            "UPDATE customers SET id_last4 = '123X', id_hash = NULL"))
        assert await CustomerService(store).protect_ids(HASHER) == 1
        stored = await store.get_customer("c-001")
        assert stored is not None and stored.id_hash == HASHER.hash("c-001", "123X")
        assert stored.id_ends_with_x
        assert await store.plain_ids() == []
        assert await CustomerService(store).protect_ids(HASHER) == 0
