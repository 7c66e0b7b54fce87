"""Cross-worker handoff: an agent on worker A accepts a caller held on worker B.

A takes the entry in the shared store (one winner), then publishes the offer on
``ivr:offers:<B>`` (entry id and agent id only; B reads both from the store) and waits for
B's answer on ``ivr:offer-results:<A>``. B hands the offer to the caller's hold loop, which
transfers the call through the provider (the transfer happens on B) or puts the caller back
at the head of the queue; the outcome goes back to A, whose dashboard shows it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from ivr.agents.handoff import QueueHandoff
from ivr.agents.model import Agent, QueueEntry
from ivr.agents.queue import AgentQueue, TransferFailed
from ivr.cluster.bus import Bus, BusError
from ivr.store.protocols import AgentStore

log = logging.getLogger(__name__)


class Offers:
    def __init__(self, bus: Bus, me: str, handoff: QueueHandoff, queue: AgentQueue,
                 agents: AgentStore, *, timeout_s: float) -> None:
        self.bus, self.me = bus, me
        self._handoff, self._queue, self._agents = handoff, queue, agents
        self._timeout = timeout_s
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.served = 0
        bus.on(bus.key("offers", me), self._incoming)
        bus.on(bus.key("offer-results", me), self._result)
        handoff.remote = self

    async def offer(self, worker: str, entry: QueueEntry, agent: Agent) -> None:
        request = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        try:
            try:
                heard = await self.bus.publish(self.bus.key("offers", worker), {
                    "request": request, "reply_to": self.me, "entry": entry.id,
                    "agent": agent.id})
            except BusError as err:
                heard = 0
                log.warning("offer of entry %s to worker %s failed: %s", entry.id, worker, err)
            if not heard:
                await self._queue.requeue_head(entry.id)
                raise TransferFailed(f"worker {worker or '(unnamed)'} holding the caller "
                                     "is not reachable")
            try:
                result = await asyncio.wait_for(asyncio.shield(future), self._timeout)
            except TimeoutError:
                raise TransferFailed(f"no answer from worker {worker}") from None
        finally:
            self._pending.pop(request, None)
        if not result.get("ok"):
            raise TransferFailed(str(result.get("error") or "transfer failed"))

    async def _incoming(self, message: dict[str, Any]) -> None:
        """On the worker holding the caller: run the transfer, answer the offering worker."""
        request, reply_to = str(message.get("request", "")), str(message.get("reply_to", ""))
        answer: dict[str, Any] = {"request": request, "ok": False}
        try:
            entry = await self._queue.get(int(message["entry"]))
            agent = await self._agents.get_agent(int(message["agent"]))
            if entry is None or agent is None:
                raise TransferFailed("unknown queue entry or agent")
            await self._handoff.deliver(entry, agent)
            answer["ok"] = True
            self.served += 1
        except TransferFailed as err:
            answer["error"] = str(err)
        except (KeyError, ValueError, TypeError):
            answer["error"] = "malformed offer"
        except Exception as err:  # the transfer itself broke: say so, never stay silent
            log.exception("offer %s from %s failed", request, reply_to)
            answer["error"] = f"transfer failed on worker {self.me}: {type(err).__name__}"
        if reply_to:
            await self.bus.publish(self.bus.key("offer-results", reply_to), answer)

    async def _result(self, message: dict[str, Any]) -> None:
        future = self._pending.get(str(message.get("request", "")))
        if future is not None and not future.done():
            future.set_result(message)
