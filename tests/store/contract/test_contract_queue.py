"""The agent queue contract on SQLite and PostgreSQL: order, atomic accept between workers,
requeue, finish, stats, and recovery scoped to the worker that held the callers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ivr.agents.queue import AgentQueue, AlreadyTaken, QueueStatus, UnknownEntry
from ivr.core.types import Language, Priority
from ivr.store.factory import Stores, StoreTarget, open_stores
from ivr.store.protocols import AgentStore

ZH, EN = Language.ZH, Language.EN
N, H, U = Priority.NORMAL, Priority.HIGH, Priority.URGENT


@pytest.fixture
def agent_store(stores: Stores) -> AgentStore:
    return stores.agents


@pytest.fixture
def queue(agent_store: AgentStore) -> AgentQueue:
    return AgentQueue(agent_store)


async def _sids(queue: AgentQueue, language: Language | None = None) -> list[str]:
    return [e.call_sid for e in await queue.waiting(language)]


async def test_fifo_within_priority_and_urgent_first(queue: AgentQueue) -> None:
    for sid, priority in [("CA1", N), ("CA2", H), ("CA3", N), ("CA4", U), ("CA5", H),
                          ("CA6", U)]:
        await queue.enqueue(sid, "request", priority, ZH, {})
    assert await _sids(queue) == ["CA4", "CA6", "CA2", "CA5", "CA1", "CA3"]
    assert [await queue.position(s) for s in ("CA4", "CA6", "CA2", "CA5", "CA1", "CA3")] == \
        [1, 2, 3, 4, 5, 6]


async def test_positions_count_only_the_same_language(queue: AgentQueue) -> None:
    await queue.enqueue("CA1", "r", N, ZH, {})
    await queue.enqueue("CA2", "r", N, EN, {})
    await queue.enqueue("CA3", "r", U, EN, {})
    await queue.enqueue("CA4", "r", N, ZH, {})
    assert await _sids(queue, ZH) == ["CA1", "CA4"]
    assert await _sids(queue, "en") == ["CA3", "CA2"]
    assert [await queue.position(s) for s in ("CA1", "CA2", "CA3", "CA4")] == [1, 2, 1, 2]
    assert await queue.position("CA-unknown") is None


async def test_entry_fields_and_masked_context(queue: AgentQueue) -> None:
    entry = await queue.enqueue("CA1", "card 6222021234567890123", "urgent", "zh",
                                {"transcript": [{"role": "caller", "text": "13812345678"}]})
    assert entry.priority is U and entry.language is ZH and entry.status is QueueStatus.WAITING
    assert entry.attempts == 0 and entry.agent_id is None and entry.enqueued_at is not None
    assert "1234567890" not in entry.reason
    assert entry.context["transcript"][0]["text"] == "*******5678"


async def test_accept_is_atomic_between_racing_agents(queue: AgentQueue) -> None:
    entry = await queue.enqueue("CA1", "r", N, ZH, {})
    results = await asyncio.gather(queue.accept(entry.id, 1), queue.accept(entry.id, 2),
                                   return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, AlreadyTaken)]
    assert len(winners) == 1 and len(losers) == 1
    assert winners[0].status is QueueStatus.ACCEPTED
    stored = await queue.get(entry.id)
    assert stored is not None and stored.agent_id == winners[0].agent_id
    assert losers[0].status is QueueStatus.ACCEPTED
    assert await queue.position("CA1") is None


async def test_racing_accept_across_two_workers(stores: Stores, target: StoreTarget) -> None:
    """Two workers' own connections (pools) on one database: exactly one winner each time."""
    other = await open_stores(target)
    try:
        qa, qb = AgentQueue(stores.agents, worker="A"), AgentQueue(other.agents, worker="B")
        entries = [await qa.enqueue(f"CA{n}", "r", N, ZH, {}) for n in range(20)]
        results = await asyncio.gather(*(q.accept(e.id, agent)
                                          for e in entries
                                          for q, agent in ((qa, 1), (qb, 2))),
                                        return_exceptions=True)
        assert sum(isinstance(r, AlreadyTaken) for r in results) == 20
        won = [r for r in results if not isinstance(r, BaseException)]
        assert sorted(e.call_sid for e in won) == sorted(e.call_sid for e in entries)
        for entry in entries:
            stored = await qb.get(entry.id)
            assert stored is not None and stored.status is QueueStatus.ACCEPTED
            assert stored.agent_id == next(w.agent_id for w in won if w.id == entry.id)
    finally:
        await other.close()


async def test_accept_unknown_and_finished_entries(queue: AgentQueue) -> None:
    with pytest.raises(UnknownEntry):
        await queue.accept(999, 1)
    entry = await queue.enqueue("CA1", "r", N, ZH, {})
    await queue.finish("CA1", "abandoned")
    with pytest.raises(AlreadyTaken):
        await queue.accept(entry.id, 1)


async def test_requeue_head_goes_first_of_its_priority(queue: AgentQueue) -> None:
    await queue.enqueue("CA1", "r", N, ZH, {})
    await queue.enqueue("CA2", "r", H, ZH, {})
    three = await queue.enqueue("CA3", "r", N, ZH, {})
    await queue.enqueue("CA4", "r", N, ZH, {})
    taken = await queue.accept(three.id, 7)
    assert await _sids(queue) == ["CA2", "CA1", "CA4"]
    back = await queue.requeue_head(taken.id)
    assert back.status is QueueStatus.WAITING and back.attempts == 1 and back.agent_id is None
    assert await _sids(queue) == ["CA2", "CA3", "CA1", "CA4"]  # high still first
    await queue.enqueue("CA5", "r", N, ZH, {})
    assert await _sids(queue) == ["CA2", "CA3", "CA1", "CA4", "CA5"]
    again = await queue.requeue_head((await queue.accept(back.id, 8)).id)
    assert again.attempts == 2


async def test_finish_records_status_and_wait(queue: AgentQueue) -> None:
    await queue.enqueue("CA1", "r", N, ZH, {})
    done = await queue.finish("CA1", QueueStatus.ABANDONED, wait_s=12.5)
    assert done is not None and done.status is QueueStatus.ABANDONED
    assert done.ended_at is not None
    assert await queue.finish("CA1", "abandoned") is None  # nothing open any more
    with pytest.raises(ValueError):
        await queue.finish("CA1", "waiting")


async def test_stats(agent_store: AgentStore) -> None:
    now = [datetime(2024, 5, 1, 10, 0, tzinfo=UTC)]
    queue = AgentQueue(agent_store, clock=lambda: now[0])
    for sid in ("CA1", "CA2", "CA3", "CA4"):
        await queue.enqueue(sid, "r", N, ZH, {})
    await queue.enqueue("CA5", "r", U, EN, {})
    now[0] += timedelta(seconds=30)
    e2 = (await queue.waiting())[2]
    await queue.accept(e2.id, 1)
    await queue.finish(e2.call_sid, "transferred")
    await queue.finish("CA3", "abandoned", wait_s=20)
    await queue.finish("CA4", "timed_out", wait_s=30)
    now[0] += timedelta(seconds=10)
    stats = await queue.stats()
    assert stats["queue_length"] == 2
    assert stats["longest_wait_s"] == 40.0
    assert stats["waiting_by_language"] == {"zh": 1, "en": 1}
    assert stats["waiting_by_priority"]["urgent"] == 1
    assert (stats["handled_today"], stats["abandoned_today"], stats["timed_out_today"]) == \
        (1, 1, 1)
    assert stats["mean_wait_s"] == 30.0


async def test_restart_recovery_marks_open_entries_orphaned(target: StoreTarget) -> None:
    before = await open_stores(target)
    try:
        queue = AgentQueue(before.agents)
        await queue.enqueue("CA1", "r", N, ZH, {"x": 1})
        taken = await queue.enqueue("CA2", "r", U, ZH, {})
        await queue.enqueue("CA3", "r", N, ZH, {})
        await queue.accept(taken.id, 4)
        await queue.finish("CA3", "abandoned")
    finally:
        await before.close()
    after = await open_stores(target)
    try:
        queue = AgentQueue(after.agents)
        sub = queue.subscribe()
        orphans = await queue.recover_after_restart()
        assert [(e.call_sid, e.status) for e in orphans] == [
            ("CA1", QueueStatus.ORPHANED), ("CA2", QueueStatus.ORPHANED)]
        assert orphans[0].context == {"x": 1}
        assert await queue.waiting() == []
        assert [c.kind.value for c in sub.drain()] == ["orphaned", "orphaned"]
        assert await queue.recover_after_restart() == []
        assert (await queue.entries_for_call("CA3"))[0].status is QueueStatus.ABANDONED
    finally:
        await after.close()


async def test_recovery_takes_only_the_dead_workers_callers(stores: Stores,
                                                             target: StoreTarget) -> None:
    other = await open_stores(target)
    try:
        on_a, on_b = AgentQueue(stores.agents, worker="A"), AgentQueue(other.agents, worker="B")
        await on_a.enqueue("CA-a", "r", N, ZH, {})
        await on_b.enqueue("CA-b1", "r", N, ZH, {})
        await on_b.enqueue("CA-b2", "r", H, EN, {})
        # A restarts: its own caller is gone, B's callers stay queued
        assert [e.call_sid for e in await on_a.recover_after_restart()] == ["CA-a"]
        assert sorted(await _sids(on_a)) == ["CA-b1", "CA-b2"]
        await on_a.enqueue("CA-a2", "r", N, ZH, {})
        # B dies; A and a third worker notice at once: each entry is taken over once
        third = AgentQueue(stores.agents, worker="C")
        got = await asyncio.gather(on_a.recover_worker("B"), third.recover_worker("B"))
        assert sorted(e.call_sid for batch in got for e in batch) == ["CA-b1", "CA-b2"]
        assert all(e.worker == "B" for batch in got for e in batch)
        assert await _sids(on_a) == ["CA-a2"]
    finally:
        await other.close()
