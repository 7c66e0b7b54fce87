"""The call store interface (SQLite and PostgreSQL implement it: ``ivr.store.sqlite``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from ivr.store.records import CallEvent, CallRecord, Counter, JsonDict, TurnRecord


@runtime_checkable
class CallStore(Protocol):
    """Persistence of calls, turns and events. Every write is committed before it returns.

    Implementations mask PII themselves (phone numbers, texts, JSON strings) and raise
    ``ivr.core.errors.StoreError`` for every failure, including unknown calls and fields.
    """

    async def close(self) -> None: ...

    async def create_call(self, rec: CallRecord) -> CallRecord:
        """Insert, or merge into the stored call with the same sid; return the stored call."""
        ...

    async def update_call(self, call_sid: str, /, **fields: object) -> CallRecord:
        """Set fields (``details`` merges key by key); return the stored call."""
        ...

    async def increment(self, call_sid: str, counter: Counter | str, by: int = 1) -> int:
        """Add ``by`` to a counter; return its new value."""
        ...

    async def add_turn(self, turn: TurnRecord) -> int:
        """Store a turn; return its ``seq`` (assigned as last + 1 when ``seq`` is None or 0)."""
        ...

    async def add_event(self, event: CallEvent) -> int:
        """Store an event; return its id."""
        ...

    async def get_call(self, call_sid: str) -> CallRecord | None: ...

    async def list_calls(
        self, limit: int = 50, offset: int = 0, since: datetime | None = None
    ) -> list[CallRecord]:
        """Newest first by ``started_at``; ``since`` keeps calls started at or after it."""
        ...

    async def live_calls(self, worker: str) -> list[CallRecord]:
        """Calls held by ``worker`` (``CallRecord.worker``) that have not ended."""
        ...

    async def get_turns(self, call_sid: str) -> list[TurnRecord]: ...

    async def get_events(self, call_sid: str) -> list[CallEvent]: ...

    def call_to_dict(
        self,
        call: CallRecord,
        turns: Iterable[TurnRecord] = (),
        events: Iterable[CallEvent] = (),
    ) -> JsonDict:
        """JSON-ready view for the REST API (see ``ivr.store.export.call_to_dict``)."""
        ...


Store = CallStore  # short name used by the web and call layers
