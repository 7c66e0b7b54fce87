"""The IVR's ID check: decision (pure), the caller's answer, the verifier over the store, and
the hashing of stored digits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ivr.customers.identity import (
    IdOutcome,
    IdPolicy,
    IdVerdict,
    decide,
    id_answer,
    spoken_id,
    well_formed,
)
from ivr.customers.model import IdLock
from ivr.customers.service import CustomerService
from ivr.customers.verifier import CallIdentity, IdentityVerifier
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


@pytest.mark.parametrize(("text", "digits"), [
    ("一 二 三 四", "1234"), ("幺两三四", "1234"), ("零 〇 九 八", "0098"),
    ("1 2 3 4", "1234"), ("１２３４", "1234"), ("one two three four", "1234"),
    ("four five six ex", "456X"), ("四 五 六 叉", "456X"), ("7 8 9 X", "789X"),
    ("double five one two", "5512"), ("oh one two three", "0123"),
    ("我的是 五 六 七 八", "5678"), ("转人工", ""), ("", ""), ("oh", ""), ("x", ""),
    ("[unk] 一 二", "12"),
])
def test_spoken_id(text: str, digits: str) -> None:
    assert spoken_id(text) == digits


def test_id_answer_keypad_speech_and_other_turns() -> None:
    assert id_answer('/inform_digits{"digits": "123X"}', "") == "123X"
    assert id_answer("/request_agent", "") is None
    assert id_answer("/nlu_fallback", "") is None
    assert id_answer("/repeat", "") is None
    assert id_answer("一 二 三 四", "一 二 三 四") == "1234"
    assert id_answer("转人工", "转人工") is None
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


async def test_verifier_compares_the_keyed_hash(store: SqliteCustomerStore) -> None:
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    assert (await verifier.verify("c-001", "123X")) == IdVerdict(IdOutcome.VERIFIED, 2)
    assert (await verifier.verify("c-001", "１２３ｘ")).outcome is IdOutcome.VERIFIED  # type: ignore[union-attr]
    assert (await verifier.verify("c-001", "1234")).outcome is IdOutcome.MISMATCH  # type: ignore[union-attr]
    assert await verifier.verify("nobody", "1234") is None
    assert (await verifier.verify("c-none", "0000")).outcome is IdOutcome.MISMATCH  # type: ignore[union-attr]


async def test_a_new_call_does_not_reset_the_count(store: SqliteCustomerStore) -> None:
    """Before: failures were counted per call, so hanging up and calling again reset them."""
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    first_call = CallIdentity(verifier, "c-001")
    assert (await first_call.check("一 二 三 四", "speech", 0.9)).outcome is IdOutcome.MISMATCH  # type: ignore[union-attr]
    second_call = CallIdentity(verifier, "c-001")
    verdict = await second_call.check('/inform_digits{"digits":"0000"}', "dtmf", None)
    assert verdict is not None and verdict.outcome is IdOutcome.LOCKED and verdict.newly_locked
    third_call = CallIdentity(verifier, "c-001")
    right = await third_call.check('/inform_digits{"digits":"123X"}', "dtmf", None)
    assert right is not None and right.outcome is IdOutcome.LOCKED  # the right answer too


async def test_unclear_answers_are_asked_again_without_counting(
        store: SqliteCustomerStore) -> None:
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    call = CallIdentity(verifier, "c-001")
    for message, source, confidence in (("一 二 三 四", "speech", 0.3),
                                        ("一 二 三", "speech", 0.9),
                                        ('/inform_digits{"digits":"12"}', "dtmf", None)):
        verdict = await call.check(message, source, confidence)
        assert verdict == IdVerdict(IdOutcome.INCOMPLETE, 2)
    assert await store.id_lock("c-001") == IdLock()
    assert await call.check("转人工", "speech", 0.9) is None
    assert (await call.check("一 二 三 叉", "speech", 0.9)).outcome is IdOutcome.VERIFIED  # type: ignore[union-attr]


async def test_caller_without_a_record_is_limited_per_call(store: SqliteCustomerStore) -> None:
    verifier = IdentityVerifier(store, HASHER, POLICY, clock=Clock())
    call = CallIdentity(verifier, None)
    assert (await call.check("一 二 三 四", "speech", 0.9)).outcome is IdOutcome.MISMATCH  # type: ignore[union-attr]
    assert (await call.check("一 二 三 四", "speech", 0.9)).outcome is IdOutcome.LOCKED  # type: ignore[union-attr]


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
