"""The queue's change feed: every mutation, fan-out, bounded buffers that drop the oldest."""

from __future__ import annotations

import asyncio

from ivr.agents.model import ChangeKind
from ivr.agents.queue import AgentQueue
from ivr.core.types import Language, Priority


async def test_every_mutation_is_published_to_every_subscriber(queue: AgentQueue) -> None:
    first, second = queue.subscribe(), queue.subscribe()
    entry = await queue.enqueue("CA1", "r", Priority.NORMAL, Language.ZH, {})
    await queue.accept(entry.id, 1)
    await queue.requeue_head(entry.id)
    await queue.finish("CA1", "abandoned")
    kinds = [ChangeKind.ENQUEUED, ChangeKind.ACCEPTED, ChangeKind.REQUEUED, ChangeKind.FINISHED]
    for sub in (first, second):
        got = [await anext(sub) for _ in range(4)]
        assert [c.kind for c in got] == kinds
        assert all(c.entry.id == entry.id for c in got)
    assert got[-1].entry.status.value == "abandoned"


async def test_slow_subscriber_drops_oldest_and_counts(queue: AgentQueue) -> None:
    slow = queue.subscribe(buffer=2)
    for n in range(5):
        await queue.enqueue(f"CA{n}", "r", Priority.NORMAL, Language.ZH, {})
    assert slow.dropped == 3 and queue.feed.dropped == 3
    assert [c.entry.call_sid for c in slow.drain()] == ["CA3", "CA4"]


async def test_close_wakes_a_waiting_reader_and_unsubscribes(queue: AgentQueue) -> None:
    sub = queue.subscribe()
    reader = asyncio.create_task(sub.next())
    await asyncio.sleep(0)
    sub.close()
    assert await asyncio.wait_for(reader, 1) is None
    assert queue.feed.subscribers == 0
    assert await sub.next(0.01) is None
    assert [c async for c in sub] == []


async def test_next_times_out_with_none(queue: AgentQueue) -> None:
    with queue.subscribe() as sub:
        assert await sub.next(0.01) is None
        await queue.enqueue("CA1", "r", Priority.HIGH, Language.EN, {})
        change = await sub.next(1)
        assert change is not None and change.kind is ChangeKind.ENQUEUED
