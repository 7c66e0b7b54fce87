"""The SQL ``CallStore``, on SQLite (the embedded default) or PostgreSQL (``ivr.store.db``).

Every write is committed before it returns. Records are validated and masked
(``ivr.store.sanitize``) before writing, whichever the backend. A create or update reads the
stored call and rewrites it in one transaction; on PostgreSQL the row is locked
(``FOR UPDATE``) so two workers updating one call never lose each other's fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ivr.core.errors import StoreError
from ivr.store.codec import (
    EVENT_COLUMNS,
    TURN_COLUMNS,
    call_from_row,
    call_values,
    event_from_row,
    event_values,
    turn_from_row,
    turn_values,
)
from ivr.store.db import Tx
from ivr.store.export import call_to_dict
from ivr.store.merge import apply_update, merge_create
from ivr.store.records import (
    CALL_FIELDS,
    COUNTERS,
    CallEvent,
    CallRecord,
    Counter,
    JsonDict,
    TurnRecord,
)
from ivr.store.sanitize import clean_call, clean_event, clean_turn, utc
from ivr.store.sqlbase import SqlStore

_INSERT_CALL = (
    f"INSERT INTO calls ({', '.join(CALL_FIELDS)}) VALUES ({', '.join('?' * len(CALL_FIELDS))})"
    " ON CONFLICT (call_sid) DO NOTHING RETURNING call_sid"
)
_UPDATE_CALL = (
    f"UPDATE calls SET {', '.join(f'{name} = ?' for name in CALL_FIELDS[1:])} WHERE call_sid = ?"
)
_INSERT_TURN = (
    f"INSERT INTO turns ({', '.join(TURN_COLUMNS)}) VALUES ({', '.join('?' * len(TURN_COLUMNS))})"
)
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS[1:])})"
    f" VALUES ({', '.join('?' * (len(EVENT_COLUMNS) - 1))}) RETURNING id"
)


class SqlCallStore(SqlStore):
    """The SQL ``CallStore``: ``await SqlCallStore.open(path)`` for a SQLite file, or
    ``SqlCallStore(db)`` on an open database (``ivr.store.factory.open_stores``)."""

    @staticmethod
    async def _stored_call(tx: Tx, call_sid: str) -> CallRecord | None:
        rows = await tx.fetch(f"SELECT * FROM calls WHERE call_sid = ?{tx.dialect.for_update}",
                              (call_sid,))
        return call_from_row(rows[0]) if rows else None

    @staticmethod
    async def _rewrite(tx: Tx, rec: CallRecord) -> None:
        values = call_values(rec)
        await tx.execute(_UPDATE_CALL, (*values[1:], values[0]))

    # -- writes --------------------------------------------------------------------------

    async def create_call(self, rec: CallRecord) -> CallRecord:
        new = clean_call(rec)

        async def op(tx: Tx) -> CallRecord:
            stored = await self._stored_call(tx, new.call_sid)
            if stored is None:
                merged = new
                if merged.started_at is None:
                    merged.started_at = datetime.now(UTC)
                if await tx.fetch(_INSERT_CALL, call_values(merged)):
                    return merged
                # another worker inserted it meanwhile (PostgreSQL): merge into theirs
                stored = await self._stored_call(tx, new.call_sid)
                if stored is None:
                    raise StoreError(f"call {new.call_sid!r} vanished while being created")
            merged = clean_call(merge_create(stored, new))
            await self._rewrite(tx, merged)
            return merged

        return await self._db.write(op)

    async def update_call(self, call_sid: str, /, **fields: object) -> CallRecord:
        async def op(tx: Tx) -> CallRecord:
            stored = await self._stored_call(tx, call_sid)
            if stored is None:
                raise StoreError(f"unknown call {call_sid!r}")
            updated = clean_call(apply_update(stored, fields))
            await self._rewrite(tx, updated)
            return updated

        return await self._db.write(op)

    async def increment(self, call_sid: str, counter: Counter | str, by: int = 1) -> int:
        name = str(counter)
        if name not in COUNTERS:
            raise StoreError(f"unknown counter {name!r}")
        if isinstance(by, bool) or not isinstance(by, int):
            raise StoreError(f"increment must be an int, got {by!r}")

        async def op(tx: Tx) -> int:
            value = tx.dialect.greatest("0", f"{name} + ?")
            rows = await tx.fetch(
                f"UPDATE calls SET {name} = {value} WHERE call_sid = ? RETURNING {name}",
                (by, call_sid))
            if not rows:
                raise StoreError(f"unknown call {call_sid!r}")
            return int(rows[0][0])

        return await self._db.write(op)

    async def add_turn(self, turn: TurnRecord) -> int:
        clean = clean_turn(turn)

        async def op(tx: Tx) -> int:
            if not clean.seq:  # None or 0: next number for this call
                # the call's row lock orders concurrent turns of one call (PostgreSQL)
                await tx.fetch(f"SELECT 1 FROM calls WHERE call_sid = ?{tx.dialect.for_update}",
                               (clean.call_sid,))
                rows = await tx.fetch(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE call_sid = ?",
                    (clean.call_sid,))
                clean.seq = int(rows[0][0]) if rows else 1
            await tx.execute(_INSERT_TURN, turn_values(clean))
            return clean.seq

        return await self._db.write(op)

    async def add_event(self, event: CallEvent) -> int:
        clean = clean_event(event)

        async def op(tx: Tx) -> int:
            rows = await tx.fetch(_INSERT_EVENT, event_values(clean))
            return int(rows[0][0])

        return await self._db.write(op)

    # -- reads ---------------------------------------------------------------------------

    async def get_call(self, call_sid: str) -> CallRecord | None:
        rows = await self._db.fetch("SELECT * FROM calls WHERE call_sid = ?", (call_sid,))
        return call_from_row(rows[0]) if rows else None

    async def list_calls(
        self, limit: int = 50, offset: int = 0, since: datetime | None = None
    ) -> list[CallRecord]:
        if limit < 1 or offset < 0:
            raise StoreError(f"invalid page limit={limit} offset={offset}")
        where = ""
        params: tuple[Any, ...] = ()
        if since is not None:
            where, params = "WHERE started_at >= ?", (utc(since, "since"),)
        rows = await self._db.fetch(
            f"SELECT * FROM calls {where} ORDER BY started_at DESC, call_sid LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [call_from_row(row) for row in rows]

    async def live_calls(self, worker: str) -> list[CallRecord]:
        """Calls held by ``worker`` that have not ended, oldest first."""
        rows = await self._db.fetch(
            "SELECT * FROM calls WHERE worker = ? AND ended_at IS NULL"
            " ORDER BY started_at, call_sid", (worker,))
        return [call_from_row(row) for row in rows]

    async def get_turns(self, call_sid: str) -> list[TurnRecord]:
        rows = await self._db.fetch(
            "SELECT * FROM turns WHERE call_sid = ? ORDER BY seq", (call_sid,)
        )
        return [turn_from_row(row) for row in rows]

    async def get_events(self, call_sid: str) -> list[CallEvent]:
        rows = await self._db.fetch(
            "SELECT * FROM events WHERE call_sid = ? ORDER BY at, id", (call_sid,)
        )
        return [event_from_row(row) for row in rows]

    def call_to_dict(
        self,
        call: CallRecord,
        turns: Iterable[TurnRecord] = (),
        events: Iterable[CallEvent] = (),
    ) -> JsonDict:
        return call_to_dict(call, turns, events)


SqliteCallStore = SqlCallStore  # the name the embedded default has always had
