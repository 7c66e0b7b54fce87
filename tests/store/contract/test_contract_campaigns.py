"""The campaign store contract on SQLite and PostgreSQL: targets, leases that two workers
never share and that run out, one attempt per claim, do-not-call lists, attempts by worker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ivr.campaigns.model import AttemptState, Campaign, CampaignState, TargetState
from ivr.core.errors import StoreError
from ivr.store.db import StoreConflict
from ivr.store.factory import Stores, StoreTarget, open_stores
from ivr.store.protocols import CampaignStore

T0 = datetime(2024, 6, 10, 11, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
def store(stores: Stores) -> CampaignStore:
    return stores.campaigns


async def _campaign(store: CampaignStore, n: int = 0, cid: str = "c1") -> None:
    await store.create_campaign(Campaign(id=cid, name="C", state=CampaignState.RUNNING,
                                         created_at=T0, updated_at=T0))
    if n:
        await store.add_targets(cid, [(f"u{i:03d}", "list") for i in range(n)], T0)


async def test_campaign_round_trip_and_conflict(store: CampaignStore) -> None:
    await _campaign(store)
    got = await store.get_campaign("c1")
    assert got is not None and got.state is CampaignState.RUNNING and got.created_at == T0
    with pytest.raises(StoreConflict, match="already exists"):
        await _campaign(store)
    assert await store.update_campaign("c1", T0, state=CampaignState.DONE,
                                       from_states=(CampaignState.PAUSED,)) is None
    done = await store.update_campaign("c1", T0, state=CampaignState.DONE, finished_at=T0)
    assert done is not None and done.finished_at == T0
    with pytest.raises(StoreError, match="unknown field"):
        await store.update_campaign("c1", T0, name="x")


async def test_targets_are_added_once_and_counted(store: CampaignStore) -> None:
    await _campaign(store, 3)
    assert await store.add_targets("c1", [("u000", "list"), ("u999", "rule")], T0) == 1
    counts = await store.state_counts("c1")
    assert counts["queued"] == 4 and counts["dialing"] == 0
    assert [t.customer_id for t in await store.due_targets("c1", T0, 10)] == [
        "u000", "u001", "u002", "u999"]


async def test_two_workers_claim_disjoint_targets(store: CampaignStore,
                                                  target: StoreTarget) -> None:
    await _campaign(store, 40)
    other = await open_stores(target)
    try:
        rounds = await asyncio.gather(*(
            s.claim_due("c1", T0, 5, worker, T0 + LEASE)
            for _ in range(4) for s, worker in ((store, "A"), (other.campaigns, "B"))))
        claimed = [(t.customer_id, t.lease_owner) for batch in rounds for t in batch]
        ids = [cid for cid, _ in claimed]
        assert len(ids) == 40 and len(set(ids)) == 40  # every target once, none twice
        assert {owner for _, owner in claimed} == {"A", "B"}
        assert await store.due_targets("c1", T0, 100) == []  # all leased
        assert await store.claim_due("c1", T0, 5, "C", T0 + LEASE) == []
    finally:
        await other.close()


async def test_a_lease_that_runs_out_returns_the_target(store: CampaignStore) -> None:
    await _campaign(store, 2)
    (first, second) = await store.claim_due("c1", T0, 2, "A", T0 + LEASE)
    assert first.lease_owner == "A" and first.lease_until == T0 + LEASE
    # A dies before dialling: nothing happens to the targets until the lease has run out
    assert await store.claim_due("c1", T0 + LEASE - timedelta(seconds=1), 5, "B",
                                 T0 + 2 * LEASE) == []
    later = T0 + LEASE
    taken = await store.claim_due("c1", later, 5, "B", later + LEASE)
    assert sorted(t.customer_id for t in taken) == ["u000", "u001"]
    # A comes back late: its stale claim dials nothing, B's does
    assert await store.begin_attempt(first, "at-A", later, "A") is None
    attempt = await store.begin_attempt(taken[0], "at-B", later, "B")
    assert attempt is not None and attempt.worker == "B" and attempt.attempt_no == 1
    dialing = await store.get_target("c1", attempt.customer_id)
    assert dialing is not None and dialing.state is TargetState.DIALING
    assert dialing.lease_owner is None and dialing.attempts == 1
    assert await store.release_leases("c1", "B") == 1  # the one B did not dial
    assert [t.customer_id for t in await store.due_targets("c1", later, 5)] == [
        second.customer_id]


async def test_racing_begin_attempt_dials_once(store: CampaignStore,
                                               target: StoreTarget) -> None:
    await _campaign(store, 10)
    other = await open_stores(target)
    try:
        due = await store.due_targets("c1", T0, 10)
        results = await asyncio.gather(*(
            s.begin_attempt(t, f"at-{w}-{t.customer_id}", T0, w)
            for t in due for s, w in ((store, "A"), (other.campaigns, "B"))))
        attempts = [a for a in results if a is not None]
        assert sorted(a.customer_id for a in attempts) == [t.customer_id for t in due]
        assert len(await store.list_attempts("c1")) == 10
        by_worker = {w: await store.list_attempts(worker=w) for w in ("A", "B")}
        assert len(by_worker["A"]) + len(by_worker["B"]) == 10
        assert (await store.state_counts("c1"))["dialing"] == 10
    finally:
        await other.close()


async def test_attempt_updates_are_conditional(store: CampaignStore) -> None:
    await _campaign(store, 1)
    (t,) = await store.claim_due("c1", T0, 1, "A", T0 + LEASE)
    attempt = await store.begin_attempt(t, "at-1", T0, "A")
    assert attempt is not None
    assert await store.update_attempt("at-1", state=AttemptState.COMPLETED,
                                      from_states=(AttemptState.RINGING,)) is None
    placed = await store.update_attempt("at-1", call_sid="CA1", dialed_at=T0,
                                        state=AttemptState.INITIATED,
                                        from_states=(AttemptState.DIALING,))
    assert placed is not None and placed.call_sid == "CA1" and placed.dialed_at == T0
    by_sid = await store.attempt_by_sid("CA1")
    assert by_sid is not None and by_sid.id == "at-1"
    assert [a.id for a in await store.list_attempts(states=(AttemptState.INITIATED,),
                                                    worker="A")] == ["at-1"]
    assert await store.list_attempts(worker="B") == []
    history = await store.contact_history("u000", "other", T0 - timedelta(days=1))
    assert history == (1, 1)


async def test_do_not_call(store: CampaignStore) -> None:
    await _campaign(store)
    assert await store.add_dnc("c1", ["u1", "u2", "u1"], "asked", T0) == 2
    assert await store.add_dnc("*", ["u9"], "global", T0) == 1
    assert await store.is_dnc("c1", "u1") and await store.is_dnc("c1", "u9")
    assert not await store.is_dnc("c1", "u3")
    assert await store.list_dnc("c1") == [("u1", "asked"), ("u2", "asked"), ("u9", "global")]


async def test_lines_are_held_until_the_final_status_or_the_grace_bound(
        store: CampaignStore) -> None:
    await _campaign(store, 5)
    await _campaign(store, 1, cid="c2")
    for target in await store.due_targets("c1", T0, 5) + await store.due_targets("c2", T0, 1):
        assert await store.begin_attempt(target, f"at-{target.campaign_id}-"
                                         f"{target.customer_id}", T0, "A") is not None
    assert await store.count_lines_held("c1") == 5  # dialling: the request may make a call
    assert await store.count_lines_held("c2") == 1
    closed = {"u000": AttemptState.COMPLETED, "u001": AttemptState.VOICEMAIL,
              "u002": AttemptState.ERROR, "u003": AttemptState.UNKNOWN}
    for customer_id, state in closed.items():
        await store.update_attempt(f"at-c1-{customer_id}", state=state, dialed_at=T0,
                                   ended_at=T0 + timedelta(seconds=5))
    await store.update_attempt("at-c1-u004", state=AttemptState.IN_PROGRESS)
    # completed and voicemail wait for the provider's final status; error and unknown don't
    assert await store.count_lines_held("c1") == 3

    later = T0 + timedelta(seconds=20)
    released = await store.release_line("at-c1-u000", later)
    assert released is not None and released.line_released_at == later
    assert released.state is AttemptState.COMPLETED
    assert await store.release_line("at-c1-u000", later + LEASE) is None  # once
    again = await store.get_attempt("at-c1-u000")
    assert again is not None and again.line_released_at == later
    assert await store.release_line("missing", later) is None
    assert await store.count_lines_held("c1") == 2

    # a line released early is held again while its attempt is active (a late progress)
    assert await store.release_line("at-c1-u004", later) is not None
    assert await store.count_lines_held("c1") == 2

    # closed at T0 + 5 s (dialled at T0): the bound counts from the close
    assert await store.release_stale_lines(T0 + timedelta(seconds=5), later) == 0
    assert await store.release_stale_lines(T0 + timedelta(seconds=6), later) == 1
    stale = await store.get_attempt("at-c1-u001")
    assert stale is not None and stale.line_released_at == later
    assert await store.count_lines_held("c1") == 1
    assert await store.count_lines_held("c2") == 1
