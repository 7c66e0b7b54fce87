"""Agents, the agent queue, dashboard sessions and failed logins on the SQLite store.

Same database file and connection rules as the call store (``ivr.store.connection``). Queue
order is ``rank`` (urgent, high, normal) then ``seq``: a new entry takes the largest ``seq``
plus one, an entry put back after a failed transfer takes the smallest minus one, so it is
first of its priority. Every state change is one conditional UPDATE, so two processes or
tasks racing for the same entry cannot both win. The queue context is masked on write.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

import aiosqlite

from ivr.agents.model import (
    PRIORITY_RANK,
    Agent,
    Presence,
    QueueEntry,
    QueueStatus,
    Role,
)
from ivr.core.errors import StoreError
from ivr.core.pii import mask_text
from ivr.core.types import Language, Priority
from ivr.store.codec import time_from_db, time_to_db
from ivr.store.connection import SqliteStore, fetch_rows
from ivr.store.logins import LoginThrottleStore
from ivr.store.sanitize import mask_json
from ivr.telephony.base import TransferKind

MAX_CONTEXT_JSON = 64_000
_OPEN = "status IN ('waiting', 'accepted')"
_ORDER = "ORDER BY rank, seq"


def _agent_from(row: sqlite3.Row) -> Agent:
    try:
        return Agent(
            id=int(row["id"]), username=row["username"], display_name=row["display_name"],
            role=Role(row["role"]),
            languages=tuple(Language(x) for x in row["languages"].split(",") if x),
            presence=Presence(row["presence"]), transfer_kind=TransferKind(row["transfer_kind"]),
            transfer_address=row["transfer_address"])
    except ValueError as err:
        raise StoreError(f"corrupt agent row {row['id']!r}: {err}") from err


def _entry_from(row: sqlite3.Row) -> QueueEntry:
    try:
        return QueueEntry(
            id=int(row["id"]), call_sid=row["call_sid"], reason=row["reason"],
            priority=Priority(row["priority"]), language=Language(row["language"]),
            context=json.loads(row["context"]), status=QueueStatus(row["status"]),
            agent_id=row["agent_id"], enqueued_at=time_from_db(row["enqueued_at"]),
            accepted_at=time_from_db(row["accepted_at"]),
            ended_at=time_from_db(row["ended_at"]), attempts=int(row["attempts"]))
    except (ValueError, TypeError) as err:
        raise StoreError(f"corrupt queue row {row['id']!r}: {err}") from err


class SqliteAgentStore(LoginThrottleStore, SqliteStore):
    """Create with ``await SqliteAgentStore.open(path)`` (the call store's file)."""


    # -- agents ----------------------------------------------------------------------------

    async def add_agent(self, agent: Agent, password_hash: str, now: datetime) -> Agent:
        """Insert ``agent`` (its ``id`` is ignored); StoreError if the username is taken."""
        stamp = time_to_db(now)
        sql = ("INSERT INTO agents (username, display_name, role, languages, presence,"
               " transfer_kind, transfer_address, password_hash, created_at, updated_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *")
        params = (agent.username, agent.display_name, agent.role.value,
                  ",".join(lang.value for lang in agent.languages), agent.presence.value,
                  agent.transfer_kind.value, agent.transfer_address, password_hash, stamp, stamp)
        try:
            rows = await self._write_rows(sql, params)
        except StoreError as err:
            if isinstance(err.__cause__, sqlite3.IntegrityError):
                raise StoreError(f"agent {agent.username!r} already exists") from err
            raise
        return _agent_from(rows[0])

    async def get_agent(self, agent_id: int) -> Agent | None:
        rows = await self._db.fetch("SELECT * FROM agents WHERE id = ?", (agent_id,))
        return _agent_from(rows[0]) if rows else None

    async def agent_login(self, username: str) -> tuple[Agent, str] | None:
        """The agent and their password hash."""
        rows = await self._db.fetch("SELECT * FROM agents WHERE username = ?", (username,))
        return (_agent_from(rows[0]), rows[0]["password_hash"]) if rows else None

    async def list_agents(self) -> list[Agent]:
        return [_agent_from(r) for r in await self._db.fetch(
            "SELECT * FROM agents ORDER BY username")]

    async def set_presence(self, agent_id: int, presence: Presence, now: datetime
                           ) -> Agent | None:
        rows = await self._write_rows(
            "UPDATE agents SET presence = ?, updated_at = ? WHERE id = ? RETURNING *",
            (presence.value, time_to_db(now), agent_id))
        return _agent_from(rows[0]) if rows else None

    # -- queue -----------------------------------------------------------------------------

    async def insert_entry(self, call_sid: str, reason: str, priority: Priority,
                           language: Language, context: dict[str, Any], now: datetime
                           ) -> QueueEntry:
        text = json.dumps(mask_json(context), ensure_ascii=False, sort_keys=True)
        if len(text) > MAX_CONTEXT_JSON:
            raise StoreError(f"queue context is too large ({len(text)} characters)")
        sql = ("INSERT INTO agent_queue (call_sid, reason, priority, rank, seq, language,"
               " context, status, enqueued_at) VALUES (?, ?, ?, ?,"
               " (SELECT COALESCE(MAX(seq), 0) + 1 FROM agent_queue), ?, ?, 'waiting', ?)"
               " RETURNING *")
        params = (call_sid, mask_text(reason), priority.value, PRIORITY_RANK[priority],
                  language.value, text, time_to_db(now))
        return _entry_from((await self._write_rows(sql, params))[0])

    async def get_entry(self, entry_id: int) -> QueueEntry | None:
        rows = await self._db.fetch("SELECT * FROM agent_queue WHERE id = ?", (entry_id,))
        return _entry_from(rows[0]) if rows else None

    async def accept_entry(self, entry_id: int, agent_id: int, now: datetime
                           ) -> QueueEntry | None:
        """None unless the entry was waiting (someone else took it, or it ended)."""
        rows = await self._write_rows(
            "UPDATE agent_queue SET status = 'accepted', agent_id = ?, accepted_at = ?"
            " WHERE id = ? AND status = 'waiting' RETURNING *",
            (agent_id, time_to_db(now), entry_id))
        return _entry_from(rows[0]) if rows else None

    async def requeue_head(self, entry_id: int) -> QueueEntry | None:
        rows = await self._write_rows(
            "UPDATE agent_queue SET status = 'waiting', agent_id = NULL, accepted_at = NULL,"
            " attempts = attempts + 1, seq = (SELECT MIN(seq) - 1 FROM agent_queue)"
            f" WHERE id = ? AND {_OPEN} RETURNING *", (entry_id,))
        return _entry_from(rows[0]) if rows else None

    async def finish_call(self, call_sid: str, status: QueueStatus, now: datetime,
                          wait_s: float | None) -> QueueEntry | None:
        """End the newest open entry of ``call_sid``; ``wait_s`` None: computed here."""
        stamp = time_to_db(now)
        wait = ("(julianday(COALESCE(accepted_at, ?)) - julianday(enqueued_at)) * 86400.0"
                if wait_s is None else "?")
        rows = await self._write_rows(
            f"UPDATE agent_queue SET status = ?, ended_at = ?, wait_s = {wait}"
            f" WHERE id = (SELECT id FROM agent_queue WHERE call_sid = ? AND {_OPEN}"
            " ORDER BY id DESC LIMIT 1) RETURNING *",
            (status.value, stamp, stamp if wait_s is None else wait_s, call_sid))
        return _entry_from(rows[0]) if rows else None

    async def waiting(self, language: Language | None = None) -> list[QueueEntry]:
        where, params = "status = 'waiting'", []
        if language is not None:
            where += " AND language = ?"
            params.append(language.value)
        rows = await self._db.fetch(f"SELECT * FROM agent_queue WHERE {where} {_ORDER}",
                                    tuple(params))
        return [_entry_from(r) for r in rows]

    async def entries_for_call(self, call_sid: str) -> list[QueueEntry]:
        rows = await self._db.fetch(
            "SELECT * FROM agent_queue WHERE call_sid = ? ORDER BY id", (call_sid,))
        return [_entry_from(r) for r in rows]

    async def orphan_open(self, now: datetime) -> list[QueueEntry]:
        rows = await self._write_rows(
            f"UPDATE agent_queue SET status = 'orphaned', ended_at = ? WHERE {_OPEN}"
            " RETURNING *", (time_to_db(now),))
        return sorted((_entry_from(r) for r in rows), key=lambda e: e.id)

    async def ended_counts(self, since: datetime) -> tuple[dict[str, int], float | None]:
        """Entries ended at or after ``since`` by status, and their mean wait (transferred)."""
        rows = await self._db.fetch(
            "SELECT status, COUNT(*) AS n, AVG(CASE WHEN status = 'transferred' THEN wait_s END)"
            " AS mean FROM agent_queue WHERE ended_at >= ? GROUP BY status",
            (time_to_db(since),))
        mean = next((r["mean"] for r in rows if r["status"] == "transferred"), None)
        return {r["status"]: int(r["n"]) for r in rows}, mean

    # -- dashboard sessions ----------------------------------------------

    async def add_session(self, token_hash: str, agent_id: int, csrf: str, now: datetime
                          ) -> None:
        stamp = time_to_db(now)
        await self._write_rows(
            "INSERT INTO agent_sessions (token_hash, agent_id, csrf, created_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?)", (token_hash, agent_id, csrf, stamp, stamp))

    async def touch_session(self, token_hash: str, now: datetime, idle_since: datetime,
                            created_since: datetime) -> tuple[int, str] | None:
        """(agent id, CSRF token) of a live session, marking it seen; expired ones go."""
        async def op(conn: aiosqlite.Connection) -> tuple[int, str] | None:
            await conn.execute(
                "DELETE FROM agent_sessions WHERE last_seen < ? OR created_at < ?",
                (time_to_db(idle_since), time_to_db(created_since)))
            rows = await fetch_rows(conn, "UPDATE agent_sessions SET last_seen = ?"
                               " WHERE token_hash = ? RETURNING agent_id, csrf",
                               (time_to_db(now), token_hash))
            return (int(rows[0][0]), str(rows[0][1])) if rows else None

        return await self._db.write(op)

    async def delete_session(self, token_hash: str) -> None:
        await self._write_rows("DELETE FROM agent_sessions WHERE token_hash = ?", (token_hash,))
