"""Typed records of the human-agent side: agents, queue entries and queue changes (no I/O).

Re-exported by ``ivr.agents.queue`` and ``ivr.agents.accounts``; the store imports them from
here so that neither of those modules and the store import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ivr.core.types import Language, Priority
from ivr.telephony.base import TransferKind, TransferTarget

# Smaller rank is served first.
PRIORITY_RANK: dict[Priority, int] = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}


class QueueStatus(StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"
    TRANSFERRED = "transferred"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed_out"
    ORPHANED = "orphaned"


OPEN_STATUSES = (QueueStatus.WAITING, QueueStatus.ACCEPTED)
FINAL_STATUSES = (QueueStatus.TRANSFERRED, QueueStatus.ABANDONED, QueueStatus.TIMED_OUT)


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class Presence(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One escalated call waiting for (or handled by) a human. ``context`` is the masked card."""

    id: int
    call_sid: str
    reason: str
    priority: Priority
    language: Language
    context: dict[str, Any] = field(default_factory=dict)
    status: QueueStatus = QueueStatus.WAITING
    agent_id: int | None = None
    enqueued_at: datetime | None = None
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    attempts: int = 0
    worker: str = ""  # the IVR worker holding the caller on hold


@dataclass(frozen=True, slots=True)
class Agent:
    """A human who takes calls. ``transfer_address`` is where the call is transferred to."""

    id: int
    username: str
    display_name: str
    role: Role
    languages: tuple[Language, ...]
    presence: Presence
    transfer_kind: TransferKind
    transfer_address: str = field(repr=False)

    @property
    def target(self) -> TransferTarget:
        return TransferTarget(self.transfer_kind, self.transfer_address)

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    def speaks(self, language: Language | str) -> bool:
        return str(language) in {lang.value for lang in self.languages}


class ChangeKind(StrEnum):
    ENQUEUED = "enqueued"
    ACCEPTED = "accepted"
    REQUEUED = "requeued"
    FINISHED = "finished"
    ORPHANED = "orphaned"


@dataclass(frozen=True, slots=True)
class QueueChange:
    """One mutation of the queue, as published on the change feed."""

    kind: ChangeKind
    entry: QueueEntry
    at: datetime
