"""The agent queue: escalated calls waiting for a human, persisted in the store.

Order among waiting entries of a language: urgent before high before normal, first come first
served within a priority; an entry put back after a failed transfer goes to the head of its
priority. ``accept`` is one conditional UPDATE: of two agents racing for an entry exactly
one wins, the other gets :class:`AlreadyTaken`. Every mutation is published on the change
feed (``subscribe``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from ivr.agents.feed import ChangeFeed, Subscription
from ivr.agents.model import (
    FINAL_STATUSES,
    PRIORITY_RANK,
    Agent,
    ChangeKind,
    QueueChange,
    QueueEntry,
    QueueStatus,
)
from ivr.core.types import Language, Priority
from ivr.store.protocols import AgentStore

__all__ = [
    "AgentQueue",
    "AlreadyTaken",
    "HandoffService",
    "QueueChange",
    "QueueEntry",
    "QueueStatus",
    "TransferFailed",
    "UnknownEntry",
]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AlreadyTaken(Exception):
    """The entry is no longer waiting: another agent accepted it, or the call ended."""

    def __init__(self, entry_id: int, status: QueueStatus | None = None) -> None:
        super().__init__(f"queue entry {entry_id} is no longer waiting ({status or 'gone'})")
        self.entry_id = entry_id
        self.status = status


class UnknownEntry(LookupError):
    def __init__(self, entry_id: int) -> None:
        super().__init__(f"no queue entry {entry_id}")
        self.entry_id = entry_id


class TransferFailed(Exception):
    """The call could not be transferred to the agent; the entry is back at the head."""


class HandoffService(Protocol):
    async def accept(self, entry_id: int, agent: Agent) -> None:
        """Take the entry for ``agent`` and transfer the call; raises AlreadyTaken,
        UnknownEntry or TransferFailed."""
        ...


class AgentQueue:
    def __init__(self, store: AgentStore, clock: Clock = utc_now,
                 feed: ChangeFeed | None = None, worker: str = "") -> None:
        self._store = store
        self._clock = clock
        self.feed = feed or ChangeFeed()
        self.worker = worker  # entries enqueued here are held by this worker

    def _publish(self, kind: ChangeKind, entry: QueueEntry) -> QueueEntry:
        self.feed.publish(QueueChange(kind, entry, self._clock()))
        return entry

    async def enqueue(self, call_sid: str, reason: str, priority: Priority | str,
                      language: Language | str, context: dict[str, Any]) -> QueueEntry:
        entry = await self._store.insert_entry(call_sid, reason, Priority(priority),
                                               Language(language), context, self._clock(),
                                               self.worker)
        return self._publish(ChangeKind.ENQUEUED, entry)

    async def get(self, entry_id: int) -> QueueEntry | None:
        return await self._store.get_entry(entry_id)

    async def entries_for_call(self, call_sid: str) -> list[QueueEntry]:
        """Every entry of a call, oldest first (a call may be queued more than once)."""
        return await self._store.entries_for_call(call_sid)

    async def position(self, call_sid: str) -> int | None:
        """1-based place of the call's waiting entry among waiting entries of its language."""
        mine = [e for e in await self._store.entries_for_call(call_sid)
                if e.status is QueueStatus.WAITING]
        if not mine:
            return None
        entry = mine[-1]
        ids = [e.id for e in await self._store.waiting(entry.language)]
        return ids.index(entry.id) + 1 if entry.id in ids else None

    async def accept(self, entry_id: int, agent_id: int) -> QueueEntry:
        entry = await self._store.accept_entry(entry_id, agent_id, self._clock())
        if entry is None:
            current = await self._store.get_entry(entry_id)
            if current is None:
                raise UnknownEntry(entry_id)
            raise AlreadyTaken(entry_id, current.status)
        return self._publish(ChangeKind.ACCEPTED, entry)

    async def requeue_head(self, entry_id: int) -> QueueEntry:
        """Back to waiting, first of its priority, ``attempts`` + 1 (the transfer failed)."""
        entry = await self._store.requeue_head(entry_id)
        if entry is None:
            current = await self._store.get_entry(entry_id)
            if current is None:
                raise UnknownEntry(entry_id)
            raise AlreadyTaken(entry_id, current.status)
        return self._publish(ChangeKind.REQUEUED, entry)

    async def finish(self, call_sid: str, status: QueueStatus | str,
                     wait_s: float | None = None) -> QueueEntry | None:
        """End the call's open entry as transferred, abandoned, timed_out (or orphaned: the
        caller was gone when an agent accepted); None when the call has no open entry.
        ``wait_s`` defaults to enqueue -> accept (or -> now when never accepted)."""
        final = QueueStatus(status)
        if final not in (*FINAL_STATUSES, QueueStatus.ORPHANED):
            raise ValueError(f"finish status must be one of {[s.value for s in FINAL_STATUSES]}"
                             " or orphaned")
        entry = await self._store.finish_call(call_sid, final, self._clock(), wait_s)
        return None if entry is None else self._publish(ChangeKind.FINISHED, entry)

    async def waiting(self, language: Language | str | None = None) -> list[QueueEntry]:
        return await self._store.waiting(None if language is None else Language(language))

    async def recover_after_restart(self) -> list[QueueEntry]:
        """Mark entries this worker's previous process left waiting or accepted orphaned."""
        return await self.recover_worker(self.worker)

    async def recover_worker(self, worker: str) -> list[QueueEntry]:
        """Mark the open entries held by ``worker`` (restarted, or dead: its callers are
        gone with it) orphaned; each entry is returned to one caller only."""
        entries = await self._store.orphan_open(self._clock(), worker)
        for entry in entries:
            self._publish(ChangeKind.ORPHANED, entry)
        return entries

    async def stats(self) -> dict[str, Any]:
        """Queue length, longest current wait, and today's (UTC) ended entries."""
        now = self._clock()
        waiting = await self._store.waiting()
        longest = max(((now - e.enqueued_at).total_seconds() for e in waiting
                       if e.enqueued_at is not None), default=0.0)
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        counts, mean = await self._store.ended_counts(midnight)
        by_language = {lang.value: sum(e.language is lang for e in waiting) for lang in Language}
        by_priority = {p.value: sum(e.priority is p for e in waiting) for p in PRIORITY_RANK}
        return {
            "queue_length": len(waiting),
            "longest_wait_s": round(max(0.0, longest), 1),
            "waiting_by_language": by_language,
            "waiting_by_priority": by_priority,
            "handled_today": counts.get(QueueStatus.TRANSFERRED.value, 0),
            "abandoned_today": counts.get(QueueStatus.ABANDONED.value, 0),
            "timed_out_today": counts.get(QueueStatus.TIMED_OUT.value, 0),
            "orphaned_today": counts.get(QueueStatus.ORPHANED.value, 0),
            "mean_wait_s": None if mean is None else round(float(mean), 1),
            "day_started_at": midnight.isoformat(),
        }

    def subscribe(self, buffer: int | None = None) -> Subscription:
        """Changes from now on; ``close()`` the subscription when done."""
        return self.feed.subscribe(buffer)

