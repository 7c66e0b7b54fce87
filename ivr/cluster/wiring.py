"""The worker's part of a cluster, wired by ``ivr.app``: what the previous process of this
worker left behind, the free call slots the dialer may use, the Redis node (heartbeat and
take-over of dead workers, the shared queue feed, cross-worker handoff offers), and the
expiry of idle Rasa conversations in the shared tracker store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from ivr.agents.handoff import QueueHandoff
from ivr.agents.queue import AgentQueue
from ivr.campaigns.model import AttemptState
from ivr.campaigns.service import CampaignService
from ivr.cluster.admissions import RedisAdmissions
from ivr.cluster.bus import Bus
from ivr.cluster.feed_bridge import FeedBridge
from ivr.cluster.keycheck import check_same_key
from ivr.cluster.members import Membership, WorkerStatus
from ivr.cluster.offers import Offers
from ivr.cluster.rasa_state import expire_conversations, tracker_url
from ivr.cluster.recovery import book_callbacks, end_lost_calls, take_over
from ivr.config import Config
from ivr.core.errors import IvrError
from ivr.customers.service import CustomerService
from ivr.store.factory import Stores

log = logging.getLogger(__name__)
PENDING_DIALS = (AttemptState.DIALING, AttemptState.INITIATED, AttemptState.RINGING)


async def recover_own_leftovers(config: Config, stores: Stores, queue: AgentQueue,
                                customers: CustomerService) -> None:
    """At start: calls this worker's previous process left open end as failed, and the
    callers it held in the agent queue are offered a callback."""
    ended = await end_lost_calls(stores.calls, config.worker_id, datetime.now(UTC))
    if ended:
        log.warning("%d call(s) were live when this worker last stopped: ended as failed",
                    len(ended))
    await book_callbacks(queue, customers, config.worker_id, "the IVR restarted")


def dialer_capacity(config: Config, stores: Stores,
                    active: Callable[[], int]) -> Callable[[], Awaitable[int]]:
    """Free call slots for this worker's dialer: ``server.max_calls`` less the live calls
    and the calls it dialled that have not been answered yet."""
    async def free() -> int:
        pending = await stores.campaigns.list_attempts(states=PENDING_DIALS,
                                                       worker=config.worker_id)
        return config.server.max_calls - active() - len(pending)

    return free


@dataclass
class ClusterNode:
    bus: Bus
    members: Membership
    bridge: FeedBridge
    offers: Offers
    admissions: RedisAdmissions

    async def close(self) -> None:
        await self.members.leave()
        await self.bridge.close()
        await self.bus.close()


async def start_node(config: Config, *, stores: Stores, queue: AgentQueue,
                     handoff: QueueHandoff, customers: CustomerService,
                     campaigns: CampaignService | None,
                     active: Callable[[], int], key: bytes) -> ClusterNode | None:
    """Join the cluster when ``cluster.redis_url`` is set (else None: a single worker);
    ``key``: the server key, which must be the other workers' (``check_same_key``)."""
    settings = config.cluster
    if not settings.redis_url:
        return None
    me = config.worker_id
    bus = Bus.from_url(settings.redis_url)
    bridge = FeedBridge(bus, queue, me)
    offers = Offers(bus, me, handoff, queue, stores.agents,
                    timeout_s=config.agents.transfer_timeout_s + 15)

    async def on_dead(worker: str) -> None:
        await take_over(worker, calls=stores.calls, queue=queue, customers=customers,
                        campaigns=campaigns)

    members = Membership(
        bus, me, lambda: WorkerStatus(me, config.worker_url, config.server.max_calls,
                                      active()),
        heartbeat_s=settings.heartbeat_s, dead_after_s=settings.dead_after_s, on_dead=on_dead)
    try:
        await bus.start()
        await check_same_key(bus, key)
        await members.start()
    except BaseException:
        await bus.close()
        raise
    log.info("worker %s joined the cluster", me)
    return ClusterNode(bus, members, bridge, offers, RedisAdmissions(bus))


def start_conversation_expiry(config: Config) -> asyncio.Task[None] | None:
    """With Rasa on the shared SQL tracker store, delete idle conversations periodically."""
    url = tracker_url(config)
    if not url:
        return None
    ttl = config.rasa.conversation_ttl_s
    every = min(max(ttl / 10, 1.0), 600.0)

    async def run() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                gone = await expire_conversations(url, ttl)
            except (asyncpg.PostgresError, OSError, TimeoutError, IvrError) as err:
                log.warning("expiring Rasa conversations failed: %s", err)
                continue
            if gone:
                log.info("expired %d idle Rasa conversation(s)", gone)

    return asyncio.create_task(run(), name="rasa-conversation-expiry")


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
