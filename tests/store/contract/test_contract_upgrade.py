"""A database made before campaign lines were tracked (schema version 8) upgrades on both
backends: attempts already closed are taken as over (their lines are free), active ones
still hold theirs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import asyncpg
import pytest

from ivr.cluster.services import LocalPostgres
from ivr.store.codec import time_to_db
from ivr.store.factory import StoreTarget, open_stores
from ivr.store.migrations import migrate
from ivr.store.pg_migrations import PG_MIGRATIONS

BEFORE_LINES = 8
T0 = datetime(2024, 6, 10, 11, 0, tzinfo=UTC)
ENDED = datetime(2024, 6, 10, 11, 5, tzinfo=UTC)
# (id, customer, state, ended_at)
ATTEMPTS = [("at-done", "u1", "completed", ENDED), ("at-vm", "u2", "voicemail", ENDED),
            ("at-busy", "u3", "busy", ENDED), ("at-live", "u4", "in_progress", None)]
CAMPAIGN = ("INSERT INTO campaigns (id, name, purpose, state, created_at, updated_at)"
            " VALUES ('c1', 'C', 'service', 'running', {0}, {0})")
ATTEMPT = ("INSERT INTO campaign_attempts (id, campaign_id, customer_id, attempt_no, state,"
           " created_at, dialed_at, ended_at) VALUES ({0}, 'c1', {1}, 1, {2}, {3}, {3}, {4})")


async def _sqlite_v8(tmp_path: Path) -> StoreTarget:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=BEFORE_LINES) == BEFORE_LINES
        await conn.execute(CAMPAIGN.format("?"), (time_to_db(T0), time_to_db(T0)))
        for attempt_id, customer_id, state, ended in ATTEMPTS:
            await conn.execute(ATTEMPT.format("?", "?", "?", "?", "?"),
                               (attempt_id, customer_id, state, time_to_db(T0),
                                time_to_db(T0), time_to_db(ended)))
    return StoreTarget.parse(path)


async def _pg_v8(server: LocalPostgres) -> str:
    name = f"old_{uuid.uuid4().hex[:12]}"
    await asyncio.to_thread(server.ensure_database, name)
    conn = await asyncpg.connect(server.url(name))
    try:
        async with conn.transaction():
            await conn.execute(
                "CREATE TABLE schema_version (version BIGINT PRIMARY KEY,"
                " description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
            for migration in PG_MIGRATIONS[:BEFORE_LINES]:
                for statement in migration.statements:
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_version VALUES ($1, $2, $3)",
                                   migration.version, migration.description, T0)
            await conn.execute(CAMPAIGN.format("$1"), T0)
            for attempt_id, customer_id, state, ended in ATTEMPTS:
                await conn.execute(ATTEMPT.format("$1", "$2", "$3", "$4", "$5"),
                                   attempt_id, customer_id, state, T0, ended)
    finally:
        await conn.close()
    return name


@pytest.fixture(params=("sqlite", "postgresql"))
def old_server(request: pytest.FixtureRequest) -> LocalPostgres | None:
    """None for SQLite; the PostgreSQL server (``tests/harness/plugin.py``) otherwise."""
    if request.param == "sqlite":
        return None
    server: LocalPostgres = request.getfixturevalue("pg_server")
    return server


@pytest.fixture
async def old_target(old_server: LocalPostgres | None,
                     tmp_path: Path) -> AsyncIterator[StoreTarget]:
    if old_server is None:
        yield await _sqlite_v8(tmp_path)
        return
    name = await _pg_v8(old_server)
    yield StoreTarget.parse(old_server.url(name), pool_size=2)
    await asyncio.to_thread(old_server.psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_old_schema_is_the_one_before_lines() -> None:
    assert PG_MIGRATIONS[BEFORE_LINES].description.startswith("campaign attempts: when")


async def test_a_version_8_database_upgrades(old_target: StoreTarget) -> None:
    stores = await open_stores(old_target)
    try:
        store = stores.campaigns
        released = {a.id: a.line_released_at for a in await store.list_attempts("c1")}
        assert released == {"at-done": ENDED, "at-vm": ENDED, "at-busy": None,
                             "at-live": None}
        assert await store.count_lines_held("c1") == 1  # only the call still in progress
    finally:
        await stores.close()
