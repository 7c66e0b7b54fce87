"""A bounded in-memory tracker store.

Rasa's ``InMemoryTrackerStore`` keeps every conversation forever. This one keeps at most
``max_conversations`` (the least recently used is dropped first) and drops any conversation
not touched for ``ttl_s`` seconds. A call lasts minutes; its conversation is not needed after.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker


class BoundedTrackerStore(InMemoryTrackerStore):
    def __init__(self, domain: Domain, event_broker: Optional[EventBroker] = None,
                 max_conversations: int = 500, ttl_s: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        kwargs.pop("host", None)
        super().__init__(domain, event_broker, **kwargs)
        self.max_conversations = int(max_conversations)
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._used: OrderedDict[Text, float] = OrderedDict()

    def _evict(self) -> None:
        now = self._clock()
        for sender in [s for s, at in self._used.items() if now - at > self.ttl_s]:
            self._drop(sender)
        while len(self._used) > self.max_conversations:
            self._drop(next(iter(self._used)))

    def _drop(self, sender_id: Text) -> None:
        self._used.pop(sender_id, None)
        self.store.pop(sender_id, None)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self._used.pop(tracker.sender_id, None)
        self._used[tracker.sender_id] = self._clock()
        self._evict()

    async def delete(self, sender_id: Text) -> None:
        self._drop(sender_id)
