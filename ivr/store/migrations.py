"""Ordered schema migrations, recorded in ``schema_version``; applied on open.

Append new migrations at the end with the next version number; never edit a released one.
Each migration runs in its own ``BEGIN IMMEDIATE`` transaction (SQLite DDL is transactional),
so a crash leaves the database at the previous version, and two processes opening the same
file at once do not apply a migration twice.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from ivr.core.errors import StoreError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


_COUNTER_COLUMNS = ", ".join(
    f"{name} INTEGER NOT NULL DEFAULT 0"
    for name in ("turns", "no_match", "no_input", "barge_ins", "wire_errors")
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "calls, turns and events",
        (
            "CREATE TABLE calls ("
            " call_sid TEXT PRIMARY KEY, provider TEXT, direction TEXT,"
            " from_masked TEXT, to_masked TEXT, language TEXT, customer_id TEXT,"
            " status TEXT, outcome TEXT, started_at TEXT NOT NULL, answered_at TEXT,"
            f" ended_at TEXT, stream_sid TEXT, {_COUNTER_COLUMNS},"
            " escalation_reason TEXT, escalation_priority TEXT, error_code TEXT)",
            "CREATE INDEX calls_started_at ON calls (started_at)",
            "CREATE TABLE turns ("
            " call_sid TEXT NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,"
            " seq INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL,"
            " source TEXT NOT NULL, expectation TEXT, started_at TEXT, ended_at TEXT,"
            " asr_ms REAL, dialogue_ms REAL, tts_ms REAL, latency_ms REAL,"
            " barge_in INTEGER NOT NULL DEFAULT 0, interrupted INTEGER NOT NULL DEFAULT 0,"
            " confidence REAL, PRIMARY KEY (call_sid, seq))",
            "CREATE TABLE events ("
            " id INTEGER PRIMARY KEY,"
            " call_sid TEXT NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,"
            " at TEXT NOT NULL, kind TEXT NOT NULL, code TEXT, detail TEXT NOT NULL DEFAULT '{}')",
        ),
    ),
    Migration(
        2,
        "calls.details JSON column; events index per call",
        (
            "ALTER TABLE calls ADD COLUMN details TEXT NOT NULL DEFAULT '{}'",
            "CREATE INDEX events_call_at ON events (call_sid, at, id)",
        ),
    ),
    Migration(
        3,
        "customers, follow-up tasks and ID-check attempts",
        (
            "CREATE TABLE customers ("
            " customer_id TEXT PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL,"
            " title TEXT, id_last4 TEXT, card_last4 TEXT, city TEXT,"
            " application_status TEXT NOT NULL, activation_status TEXT NOT NULL,"
            " missing_documents TEXT NOT NULL DEFAULT '[]', expected_review_days INTEGER,"
            " language TEXT NOT NULL, marketing_opt_out INTEGER NOT NULL DEFAULT 0,"
            " preferred_channel TEXT NOT NULL, email TEXT, timezone TEXT NOT NULL,"
            " pre_review_passed_at TEXT, recent_transactions TEXT NOT NULL DEFAULT '[]',"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            "CREATE INDEX customers_phone ON customers (phone)",
            "CREATE TABLE followups ("
            " id INTEGER PRIMARY KEY, call_sid TEXT, customer_id TEXT, kind TEXT NOT NULL,"
            " detail TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'open', owner TEXT,"
            " due_at TEXT NOT NULL, created_at TEXT NOT NULL, done_at TEXT)",
            "CREATE INDEX followups_status_due ON followups (status, due_at, id)",
            "CREATE INDEX followups_call ON followups (call_sid)",
            "CREATE TABLE id_checks ("
            " call_sid TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " attempts INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,"
            " last_at TEXT NOT NULL, PRIMARY KEY (call_sid, customer_id))",
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version


async def current_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


async def migrate(conn: aiosqlite.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the schema up to ``target``; return the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        version = await current_version(conn)
        if version > LATEST_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this code ({LATEST_VERSION})"
            )
        for migration in MIGRATIONS:
            if version < migration.version <= target:
                version = await _apply(conn, migration)
        return version
    except sqlite3.Error as err:
        raise StoreError(f"schema migration failed: {err}") from err


async def _apply(conn: aiosqlite.Connection, migration: Migration) -> int:
    await conn.execute("BEGIN IMMEDIATE")
    try:
        if await current_version(conn) < migration.version:  # another process may have won
            for statement in migration.statements:
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, datetime.now(UTC).isoformat()),
            )
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return migration.version
