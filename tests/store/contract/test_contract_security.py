"""The security tables' contract on SQLite and PostgreSQL: dashboard login back-off
(``login_throttle``), per-customer ID-check failures (``id_locks``) and the migration of plain
ID digits to keyed hashes -- including two workers (own pools) racing on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ivr.agents.throttle import Backoff
from ivr.customers.identity import IdOutcome, IdPolicy
from ivr.customers.model import IdLock
from ivr.store.factory import Stores, StoreTarget, open_stores
from tests.customers.customer_samples import HASHER, customer
from tests.store.contract.conftest import raw

T0 = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
B = Backoff(base_s=1, max_s=60)


async def test_login_attempt_is_counted_before_the_password_check(stores: Stores) -> None:
    store = stores.agents
    keys = ["client:a", "user:amy"]
    assert await store.reserve_login(keys, T0, B) == 0
    assert await store.reserve_login(keys, T0, B) == 1  # the first attempt is still counted
    assert await store.reserve_login(["client:b", "user:amy"], T0, B) == 1  # per username
    assert await store.reserve_login(["client:b", "user:bob"], T0, B) == 0
    await store.clear_login(keys)
    assert await store.reserve_login(keys, T0, B) == 0
    rows = await raw(stores.agents.db, "SELECT key, failures FROM login_throttle ORDER BY key")
    assert [(r[0], int(r[1])) for r in rows] == [
        ("client:a", 1), ("client:b", 1), ("user:amy", 1), ("user:bob", 1)]


async def test_a_refused_attempt_leaves_no_placeholder_rows(stores: Stores) -> None:
    store = stores.agents
    assert await store.reserve_login(["user:amy"], T0, B) == 0
    assert await store.reserve_login(["client:new", "user:amy"], T0, B) == 1
    rows = await raw(stores.agents.db, "SELECT key FROM login_throttle ORDER BY key")
    assert [r[0] for r in rows] == ["user:amy"]  # the refused attempt counted nothing


async def test_racing_logins_on_two_workers_get_one_attempt(stores: Stores,
                                                            target: StoreTarget) -> None:
    other = await open_stores(target)
    try:
        keys = ["client:x", "user:amy"]
        results = await asyncio.gather(*(s.agents.reserve_login(keys, T0, B)
                                         for _ in range(5) for s in (stores, other)))
        assert sorted(results) == [0] + [1] * 9  # exactly one attempt goes ahead
        rows = await raw(stores.agents.db,
                         "SELECT failures FROM login_throttle ORDER BY key")
        assert [int(r[0]) for r in rows] == [1, 1]
    finally:
        await other.close()


async def test_racing_id_failures_on_two_workers_lock_once(stores: Stores,
                                                           target: StoreTarget) -> None:
    other = await open_stores(target)
    policy = IdPolicy(max_failures=3, cooldown_s=600)
    try:
        verdicts = await asyncio.gather(*(s.customers.record_id_attempt("c-001", False, T0,
                                                                        policy)
                                          for _ in range(3) for s in (stores, other)))
        outcomes = sorted((v.outcome.value, v.attempts_left, v.newly_locked) for v in verdicts)
        assert outcomes == [("locked", 0, False)] * 3 + [("locked", 0, True)] + [
            ("mismatch", 1, False), ("mismatch", 2, False)]
        lock = await other.customers.id_lock("c-001")
        assert lock.failures == 3 and lock.locked_until is not None
        assert await stores.customers.id_lock("c-002") == IdLock()
        late = await stores.customers.record_id_attempt("c-001", True, T0, policy)
        assert late.outcome is IdOutcome.LOCKED  # while locked, even a right answer
    finally:
        await other.close()


async def test_plain_id_digits_are_replaced_by_their_hash(stores: Stores) -> None:
    store = stores.customers
    await store.upsert_customers([customer()])
    await raw(store.db, "UPDATE customers SET id_last4 = '4321', id_hash = NULL"
              " WHERE customer_id = 'c-001' RETURNING 1")
    assert await store.plain_ids() == [("c-001", "4321")]
    await store.set_id_hashes([("c-001", HASHER.hash("c-001", "4321"), False)])
    assert await store.plain_ids() == []
    stored = await store.get_customer("c-001")
    assert stored is not None and stored.id_last4 is None and not stored.id_ends_with_x
    assert stored.id_hash == HASHER.hash("c-001", "4321")
