"""The agent and campaign store interfaces (the call and customer ones are ``CallStore`` in
``ivr.store.base`` and ``CustomerStore`` in ``ivr.store.customers``).

The agent, campaign, customer and call code depend on these protocols only; SQLite and
PostgreSQL implement them with the same SQL (``ivr.store.agents``, ``ivr.store.campaigns``),
and the contract suite (``tests/store/contract``) runs the same tests on both. Every method
raises ``ivr.core.errors.StoreError`` on failure (``StoreConflict`` for a taken key). A method
that changes a row only from given states returns None when the row was not in them: of two
workers racing for the same row exactly one wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ivr.agents.model import Agent, Presence, QueueEntry, QueueStatus
from ivr.agents.throttle import Backoff
from ivr.campaigns.model import (
    Attempt,
    AttemptState,
    Campaign,
    CampaignState,
    Target,
    TargetState,
)
from ivr.core.types import Language, Priority


@runtime_checkable
class AgentStore(Protocol):
    """Agents, the agent queue, dashboard sessions and login back-off."""

    async def close(self) -> None: ...

    async def add_agent(self, agent: Agent, password_hash: str, now: datetime) -> Agent:
        """Insert ``agent`` (its ``id`` is ignored); StoreConflict if the username is taken."""
        ...

    async def get_agent(self, agent_id: int) -> Agent | None: ...

    async def agent_login(self, username: str) -> tuple[Agent, str] | None:
        """The agent and their password hash."""
        ...

    async def list_agents(self) -> list[Agent]: ...

    async def set_presence(self, agent_id: int, presence: Presence, now: datetime
                           ) -> Agent | None: ...

    async def insert_entry(self, call_sid: str, reason: str, priority: Priority,
                           language: Language, context: dict[str, Any], now: datetime,
                           worker: str = "") -> QueueEntry:
        """A new waiting entry, last of its priority, held by ``worker``; the context is
        masked on write."""
        ...

    async def get_entry(self, entry_id: int) -> QueueEntry | None: ...

    async def accept_entry(self, entry_id: int, agent_id: int, now: datetime
                           ) -> QueueEntry | None:
        """Claim a waiting entry for an agent; None when it is not waiting (any more)."""
        ...

    async def requeue_head(self, entry_id: int) -> QueueEntry | None:
        """Back to waiting, first of its priority, attempts + 1; None unless open."""
        ...

    async def finish_call(self, call_sid: str, status: QueueStatus, now: datetime,
                          wait_s: float | None) -> QueueEntry | None:
        """End the newest open entry of ``call_sid``; ``wait_s`` None: computed here."""
        ...

    async def waiting(self, language: Language | None = None) -> list[QueueEntry]:
        """Waiting entries in queue order."""
        ...

    async def entries_for_call(self, call_sid: str) -> list[QueueEntry]: ...

    async def orphan_open(self, now: datetime, worker: str = "") -> list[QueueEntry]:
        """Mark the open entries held by ``worker`` orphaned (it restarted or died); return
        them by id. Of two workers doing this at once, each entry goes to one."""
        ...

    async def ended_counts(self, since: datetime) -> tuple[dict[str, int], float | None]:
        """Entries ended at or after ``since`` by status, and their mean wait (transferred)."""
        ...

    async def add_session(self, token_hash: str, agent_id: int, csrf: str, now: datetime
                          ) -> None: ...

    async def touch_session(self, token_hash: str, now: datetime, idle_since: datetime,
                            created_since: datetime) -> tuple[int, str] | None:
        """(agent id, CSRF token) of a live session, marking it seen; expired ones go."""
        ...

    async def delete_session(self, token_hash: str) -> None: ...

    async def reserve_login(self, keys: Sequence[str], now: datetime,
                            backoff: Backoff) -> float:
        """0 when a login attempt on ``keys`` may go ahead (and is now counted against each);
        else the seconds to wait. Concurrent attempts on one key, on any worker, serialize."""
        ...

    async def clear_login(self, keys: Sequence[str]) -> None: ...


@runtime_checkable
class CampaignStore(Protocol):
    """Campaigns, their targets, dial attempts and do-not-call lists."""

    async def close(self) -> None: ...

    async def create_campaign(self, c: Campaign) -> Campaign:
        """StoreConflict when the id is taken."""
        ...

    async def get_campaign(self, campaign_id: str) -> Campaign | None: ...

    async def list_campaigns(self, state: CampaignState | None = None) -> list[Campaign]: ...

    async def update_campaign(self, campaign_id: str, now: datetime, *,
                              from_states: Sequence[CampaignState] | None = None,
                              **fields: Any) -> Campaign | None: ...

    async def add_targets(self, campaign_id: str, targets: Iterable[tuple[str, str]],
                          now: datetime) -> int:
        """Add (customer_id, source) pairs as ``queued``; returns how many were new."""
        ...

    async def get_target(self, campaign_id: str, customer_id: str) -> Target | None: ...

    async def list_targets(self, campaign_id: str,
                           states: Sequence[TargetState] | None = None) -> list[Target]: ...

    async def due_targets(self, campaign_id: str, now: datetime, limit: int) -> list[Target]:
        """Queued or retrying targets whose ``next_at`` has come and that no worker holds
        a live lease on, earliest first."""
        ...

    async def claim_due(self, campaign_id: str, now: datetime, limit: int, worker: str,
                        lease_until: datetime) -> list[Target]:
        """Lease up to ``limit`` due targets to ``worker``; concurrent claims by other
        workers get other targets (``FOR UPDATE SKIP LOCKED``). An expired lease makes the
        target due again."""
        ...

    async def release_leases(self, campaign_id: str, worker: str) -> int:
        """End ``worker``'s leases (targets it claimed but did not dial)."""
        ...

    async def state_counts(self, campaign_id: str) -> dict[str, int]: ...

    async def update_target(self, campaign_id: str, customer_id: str, now: datetime, *,
                            from_states: Sequence[TargetState] | None = None,
                            **fields: Any) -> Target | None: ...

    async def begin_attempt(self, target: Target, attempt_id: str, now: datetime,
                            worker: str = "") -> Attempt | None:
        """Claim a due target and write its next attempt as ``dialing`` by ``worker`` (one
        transaction); None when another dialer claimed it first or holds a live lease."""
        ...

    async def update_attempt(self, attempt_id: str, *,
                             from_states: Sequence[AttemptState] | None = None,
                             **fields: Any) -> Attempt | None: ...

    async def count_lines_held(self, campaign_id: str) -> int:
        """The campaign's attempts that may still have a call up at the provider: active
        ones, and completed or voicemail ones whose line is not released yet."""
        ...

    async def release_line(self, attempt_id: str, now: datetime) -> Attempt | None:
        """Record that the attempt's call is over at the provider; None when it was
        recorded already (or the attempt is missing)."""
        ...

    async def release_stale_lines(self, closed_before: datetime, now: datetime) -> int:
        """Release the lines of completed or voicemail attempts closed before
        ``closed_before`` that still wait for their final status; returns how many."""
        ...

    async def get_attempt(self, attempt_id: str) -> Attempt | None: ...

    async def attempt_by_sid(self, call_sid: str) -> Attempt | None: ...

    async def list_attempts(self, campaign_id: str | None = None,
                            states: Sequence[AttemptState] | None = None,
                            worker: str | None = None) -> list[Attempt]: ...

    async def contact_history(self, customer_id: str, campaign_id: str,
                              since: datetime) -> tuple[int, int]:
        """(other campaigns that ever dialled the customer, those that did since ``since``)."""
        ...

    async def add_dnc(self, campaign_id: str, customer_ids: Iterable[str], reason: str,
                      now: datetime) -> int: ...

    async def is_dnc(self, campaign_id: str, customer_id: str) -> bool: ...

    async def list_dnc(self, campaign_id: str) -> list[tuple[str, str | None]]: ...
