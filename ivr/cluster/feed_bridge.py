"""The agent-queue change feed across workers over Redis pub/sub.

A change made on one worker is published on ``ivr:queue`` as its kind, entry id and time
(no call content crosses Redis); every other worker re-reads the entry from the shared store
and hands the change to its own dashboards, so an agent on worker A sees a caller queued on
worker B at once. A lost message is healed by the next one (dashboards re-read the queue).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from ivr.agents.model import ChangeKind, QueueChange
from ivr.agents.queue import AgentQueue
from ivr.cluster.bus import Bus, BusError

log = logging.getLogger(__name__)


class FeedBridge:
    def __init__(self, bus: Bus, queue: AgentQueue, me: str) -> None:
        self.bus, self.queue, self.me = bus, queue, me
        self.channel = bus.key("queue")
        self._sending: set[asyncio.Task[None]] = set()
        self.received = 0
        bus.on(self.channel, self._receive)
        queue.feed.forward = self._forward

    def _forward(self, change: QueueChange) -> None:
        message = {"origin": self.me, "kind": change.kind.value, "entry": change.entry.id,
                   "at": change.at.isoformat()}
        task = asyncio.create_task(self._send(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            await self.bus.publish(self.channel, message)
        except BusError as err:
            log.warning("queue change not shared with the other workers: %s", err)

    async def _receive(self, message: dict[str, Any]) -> None:
        if message.get("origin") == self.me:
            return
        try:
            kind = ChangeKind(str(message["kind"]))
            at = datetime.fromisoformat(str(message["at"]))
            entry = await self.queue.get(int(message["entry"]))
        except (KeyError, ValueError, TypeError):
            log.warning("ignoring a malformed queue change from %s", message.get("origin"))
            return
        if entry is not None:
            self.received += 1
            self.queue.feed.publish_remote(QueueChange(kind, entry, at))

    async def close(self) -> None:
        self.queue.feed.forward = None
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
