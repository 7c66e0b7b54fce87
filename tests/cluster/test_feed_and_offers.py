"""The queue feed across workers, and an agent on worker A accepting a caller held on B."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ivr.agents.handoff import QueueHandoff
from ivr.agents.model import Agent, ChangeKind, Presence, QueueEntry, QueueStatus, Role
from ivr.agents.queue import AgentQueue, TransferFailed
from ivr.call.prompts import load_prompts
from ivr.cluster.bus import Bus
from ivr.cluster.feed_bridge import FeedBridge
from ivr.cluster.offers import Offers
from ivr.core.types import Language, Priority
from ivr.store.factory import Stores
from tests.agents.support import target
from tests.campaigns.helpers import FakeControl


class HoldingWorker(QueueHandoff):
    """Worker B's handoff: records the transfers it is asked to run (``fail`` refuses)."""

    def __init__(self, queue: AgentQueue, stores: Stores) -> None:
        super().__init__(queue, FakeControl(), stores.calls, None, load_prompts(), b"",
                         max_wait_s=60, transfer_timeout_s=1)
        self.delivered: list[tuple[int, str]] = []
        self.fail = ""

    async def deliver(self, entry: QueueEntry, agent: Agent) -> None:
        if self.fail:
            await self._queue.requeue_head(entry.id)
            raise TransferFailed(self.fail)
        self.delivered.append((entry.id, agent.username))
        await self._queue.finish(entry.call_sid, "transferred")


async def _worker(name: str, stores: Stores, bus: Bus) -> tuple[AgentQueue, HoldingWorker]:
    queue = AgentQueue(stores.agents, worker=name)
    handoff = HoldingWorker(queue, stores)
    FeedBridge(bus, queue, name)
    Offers(bus, name, handoff, queue, stores.agents, timeout_s=5)
    await bus.start()
    return queue, handoff


async def _agent(stores: Stores) -> Agent:
    return await stores.agents.add_agent(
        Agent(id=0, username="alice", display_name="Alice", role=Role.AGENT,
              languages=(Language.ZH,), presence=Presence.AVAILABLE,
              transfer_kind=target().kind, transfer_address=target().address),
        "hash", datetime.now(UTC))


async def test_a_caller_queued_on_b_shows_on_a(bus_factory: Callable[[], Bus],
                                               shared: Any) -> None:
    queue_a, _ = await _worker("A", await shared(), bus_factory())
    queue_b, _ = await _worker("B", await shared(), bus_factory())
    with queue_a.subscribe() as seen_on_a:
        entry = await queue_b.enqueue("CA-b", "agent_request", Priority.HIGH, "zh",
                                      {"customer": {"name": "张伟"}})
        change = await seen_on_a.next(wait_s=10)
    assert change is not None and change.kind is ChangeKind.ENQUEUED
    assert change.entry.id == entry.id and change.entry.worker == "B"
    assert change.entry.context == {"customer": {"name": "张伟"}}
    assert seen_on_a.drain() == []  # once, and B's own subscribers got it locally


async def test_accept_on_a_transfers_on_b(bus_factory: Callable[[], Bus], shared: Any) -> None:
    stores_a, stores_b = await shared(), await shared()
    queue_a, handoff_a = await _worker("A", stores_a, bus_factory())
    queue_b, handoff_b = await _worker("B", stores_b, bus_factory())
    agent = await _agent(stores_a)
    entry = await queue_b.enqueue("CA-b", "agent_request", Priority.NORMAL, "zh", {})
    await handoff_a.accept(entry.id, agent)
    assert handoff_b.delivered == [(entry.id, "alice")] and handoff_a.delivered == []
    done = await queue_a.get(entry.id)
    assert done is not None and done.status is QueueStatus.TRANSFERRED

    # B's provider refuses: A's agent hears so, the caller is back at the head
    second = await queue_b.enqueue("CA-b2", "agent_request", Priority.NORMAL, "zh", {})
    handoff_b.fail = "transfer failed: provider said 500"
    with pytest.raises(TransferFailed, match="provider said 500"):
        await handoff_a.accept(second.id, agent)
    back = await queue_a.get(second.id)
    assert back is not None and back.status is QueueStatus.WAITING and back.attempts == 1


async def test_accept_of_a_caller_on_a_vanished_worker(bus_factory: Callable[[], Bus],
                                                       shared: Any) -> None:
    stores = await shared()
    queue_a, handoff_a = await _worker("A", stores, bus_factory())
    agent = await _agent(stores)
    ghost = AgentQueue(stores.agents, worker="Z")  # Z is not listening any more
    entry = await ghost.enqueue("CA-z", "agent_request", Priority.NORMAL, "zh", {})
    with pytest.raises(TransferFailed, match="not reachable"):
        await handoff_a.accept(entry.id, agent)
    back = await queue_a.get(entry.id)
    assert back is not None and back.status is QueueStatus.WAITING
