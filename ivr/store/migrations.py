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
    Migration(
        4,
        "human agents, the agent queue, dashboard sessions and failed logins",
        (
            "CREATE TABLE agents ("
            " id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,"
            " display_name TEXT NOT NULL, role TEXT NOT NULL, languages TEXT NOT NULL,"
            " presence TEXT NOT NULL DEFAULT 'away', transfer_kind TEXT NOT NULL,"
            " transfer_address TEXT NOT NULL, password_hash TEXT NOT NULL,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            "CREATE TABLE agent_queue ("
            " id INTEGER PRIMARY KEY, call_sid TEXT NOT NULL, reason TEXT NOT NULL,"
            " priority TEXT NOT NULL, rank INTEGER NOT NULL, seq INTEGER NOT NULL,"
            " language TEXT NOT NULL, context TEXT NOT NULL DEFAULT '{}',"
            " status TEXT NOT NULL, agent_id INTEGER, enqueued_at TEXT NOT NULL,"
            " accepted_at TEXT, ended_at TEXT, wait_s REAL,"
            " attempts INTEGER NOT NULL DEFAULT 0)",
            "CREATE INDEX agent_queue_order ON agent_queue (status, language, rank, seq)",
            "CREATE INDEX agent_queue_call ON agent_queue (call_sid, id)",
            "CREATE INDEX agent_queue_ended ON agent_queue (ended_at)",
            "CREATE TABLE agent_sessions ("
            " token_hash TEXT PRIMARY KEY,"
            " agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,"
            " csrf TEXT NOT NULL, created_at TEXT NOT NULL, last_seen TEXT NOT NULL)",
            "CREATE TABLE login_failures (username TEXT NOT NULL, at TEXT NOT NULL)",
            "CREATE INDEX login_failures_user ON login_failures (username, at)",
        ),
    ),
    Migration(
        5,
        "outbound campaigns: campaigns, targets, dial attempts and do-not-call lists",
        (
            "CREATE TABLE campaigns ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, purpose TEXT NOT NULL,"
            " rules TEXT NOT NULL DEFAULT '[]', policy TEXT NOT NULL DEFAULT '{}',"
            " state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " started_at TEXT, finished_at TEXT, ends_at TEXT, rules_checked_at TEXT)",
            "CREATE TABLE campaign_targets ("
            " campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,"
            " customer_id TEXT NOT NULL, source TEXT NOT NULL, state TEXT NOT NULL,"
            " attempts INTEGER NOT NULL DEFAULT 0, next_at TEXT, reason TEXT,"
            " last_outcome TEXT, fallback_channel TEXT, fallback_ref TEXT, fallback_token TEXT,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " PRIMARY KEY (campaign_id, customer_id))",
            "CREATE INDEX campaign_targets_due ON campaign_targets (campaign_id, state, next_at)",
            "CREATE TABLE campaign_attempts ("
            " id TEXT PRIMARY KEY,"
            " campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,"
            " customer_id TEXT NOT NULL, attempt_no INTEGER NOT NULL, state TEXT NOT NULL,"
            " call_sid TEXT, answered_by TEXT, outcome TEXT, voicemail_action TEXT,"
            " error TEXT, created_at TEXT NOT NULL, dialed_at TEXT, answered_at TEXT,"
            " ended_at TEXT, UNIQUE (campaign_id, customer_id, attempt_no))",
            "CREATE INDEX campaign_attempts_sid ON campaign_attempts (call_sid)",
            "CREATE INDEX campaign_attempts_customer ON campaign_attempts"
            " (customer_id, created_at)",
            "CREATE INDEX campaign_attempts_state ON campaign_attempts (state)",
            "CREATE TABLE campaign_dnc ("
            " campaign_id TEXT NOT NULL, customer_id TEXT NOT NULL, reason TEXT,"
            " added_at TEXT NOT NULL, PRIMARY KEY (campaign_id, customer_id))",
        ),
    ),
    Migration(
        6,
        "dashboard login back-off per client, username and trusted browser",
        (
            "CREATE TABLE login_throttle ("
            " key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_at TEXT NOT NULL)",
            "CREATE INDEX login_throttle_last ON login_throttle (last_at)",
            "DROP TABLE login_failures",
        ),
    ),
    Migration(
        7,
        "ID digits as a keyed hash; failed ID checks per customer across calls",
        (
            "ALTER TABLE customers ADD COLUMN id_hash TEXT",
            "ALTER TABLE customers ADD COLUMN id_ends_with_x INTEGER NOT NULL DEFAULT 0",
            # customers.id_last4 stays only until the IVR hashes it (it needs the server key,
            # which SQL does not have): ivr.customers.service.CustomerService.protect_ids.
            "CREATE TABLE id_locks ("
            " customer_id TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
            " last_failure_at TEXT, locked_until TEXT)",
            "DROP TABLE id_checks",
        ),
    ),
    Migration(
        8,
        "workers: who holds each call, queue entry and dial attempt; campaign target leases",
        (
            "ALTER TABLE calls ADD COLUMN worker TEXT",
            "CREATE INDEX calls_worker_live ON calls (worker, ended_at)",
            "ALTER TABLE agent_queue ADD COLUMN worker TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE campaign_targets ADD COLUMN lease_owner TEXT",
            "ALTER TABLE campaign_targets ADD COLUMN lease_until TEXT",
            "ALTER TABLE campaign_attempts ADD COLUMN worker TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        9,
        "campaign attempts: when the provider's final status freed the call's line",
        (
            "ALTER TABLE campaign_attempts ADD COLUMN line_released_at TEXT",
            # Attempts closed before this version are taken as over: their lines are free.
            "UPDATE campaign_attempts SET line_released_at = COALESCE(ended_at, created_at)"
            " WHERE state IN ('completed', 'voicemail')",
            "CREATE INDEX campaign_attempts_line ON campaign_attempts (state, line_released_at)",
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
