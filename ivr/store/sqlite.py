"""SQLite implementation of ``CallStore`` on aiosqlite (see ``ivr.store.connection``).

WAL, foreign keys on, every write committed before it returns, writes serialized through
one connection. Records are validated and masked (``ivr.store.sanitize``) before writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from ivr.core.errors import StoreError
from ivr.store.codec import (
    EVENT_COLUMNS,
    TURN_COLUMNS,
    call_from_row,
    call_values,
    event_from_row,
    event_values,
    time_to_db,
    turn_from_row,
    turn_values,
)
from ivr.store.connection import SqliteStore
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

_INSERT_CALL = (
    f"INSERT INTO calls ({', '.join(CALL_FIELDS)}) VALUES ({', '.join('?' * len(CALL_FIELDS))})"
)
_UPDATE_CALL = (
    f"UPDATE calls SET {', '.join(f'{name} = ?' for name in CALL_FIELDS[1:])} WHERE call_sid = ?"
)
_INSERT_TURN = (
    f"INSERT INTO turns ({', '.join(TURN_COLUMNS)}) VALUES ({', '.join('?' * len(TURN_COLUMNS))})"
)
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS[1:])})"
    f" VALUES ({', '.join('?' * (len(EVENT_COLUMNS) - 1))})"
)


class SqliteCallStore(SqliteStore):
    """The SQLite ``CallStore``. Create with ``await SqliteCallStore.open(path)``."""

    @staticmethod
    async def _stored_call(conn: aiosqlite.Connection, call_sid: str) -> CallRecord | None:
        async with conn.execute("SELECT * FROM calls WHERE call_sid = ?", (call_sid,)) as cur:
            row = await cur.fetchone()
        return None if row is None else call_from_row(row)

    # -- writes --------------------------------------------------------------------------

    async def create_call(self, rec: CallRecord) -> CallRecord:
        new = clean_call(rec)

        async def op(conn: aiosqlite.Connection) -> CallRecord:
            stored = await self._stored_call(conn, new.call_sid)
            if stored is None:
                merged = new
                if merged.started_at is None:
                    merged.started_at = datetime.now(UTC)
                await conn.execute(_INSERT_CALL, call_values(merged))
            else:
                merged = clean_call(merge_create(stored, new))
                values = call_values(merged)
                await conn.execute(_UPDATE_CALL, (*values[1:], values[0]))
            return merged

        return await self._db.write(op)

    async def update_call(self, call_sid: str, /, **fields: object) -> CallRecord:
        async def op(conn: aiosqlite.Connection) -> CallRecord:
            stored = await self._stored_call(conn, call_sid)
            if stored is None:
                raise StoreError(f"unknown call {call_sid!r}")
            updated = clean_call(apply_update(stored, fields))
            values = call_values(updated)
            await conn.execute(_UPDATE_CALL, (*values[1:], values[0]))
            return updated

        return await self._db.write(op)

    async def increment(self, call_sid: str, counter: Counter | str, by: int = 1) -> int:
        name = str(counter)
        if name not in COUNTERS:
            raise StoreError(f"unknown counter {name!r}")
        if isinstance(by, bool) or not isinstance(by, int):
            raise StoreError(f"increment must be an int, got {by!r}")

        async def op(conn: aiosqlite.Connection) -> int:
            sql = f"UPDATE calls SET {name} = MAX(0, {name} + ?) WHERE call_sid = ?"
            sql += f" RETURNING {name}"
            async with conn.execute(sql, (by, call_sid)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise StoreError(f"unknown call {call_sid!r}")
            return int(row[0])

        return await self._db.write(op)

    async def add_turn(self, turn: TurnRecord) -> int:
        clean = clean_turn(turn)

        async def op(conn: aiosqlite.Connection) -> int:
            if not clean.seq:  # None or 0: next number for this call
                sql = "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE call_sid = ?"
                async with conn.execute(sql, (clean.call_sid,)) as cur:
                    row = await cur.fetchone()
                clean.seq = int(row[0]) if row is not None else 1
            await conn.execute(_INSERT_TURN, turn_values(clean))
            return clean.seq

        return await self._db.write(op)

    async def add_event(self, event: CallEvent) -> int:
        clean = clean_event(event)

        async def op(conn: aiosqlite.Connection) -> int:
            cur = await conn.execute(_INSERT_EVENT, event_values(clean))
            await cur.close()
            if cur.lastrowid is None:
                raise StoreError("event insert returned no id")
            return cur.lastrowid

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
            where, params = "WHERE started_at >= ?", (time_to_db(utc(since, "since")),)
        rows = await self._db.fetch(
            f"SELECT * FROM calls {where} ORDER BY started_at DESC, call_sid LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
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
