"""Pytest fixtures for the real PostgreSQL and Redis (Debian's binaries, started per test
session on loopback with a temporary data folder, a free port and a password, stopped at the
end; see ``ivr.cluster.services``).

* ``pg_server`` / ``redis_server``: the running servers (session scope).
* ``pg_url``: a fresh, migrated database per test, copied from a template (fast).
* ``redis_url``: a Redis database number of its own per test, flushed first.

Without the binaries these fixtures skip, which ``make test`` (``IVR_REQUIRE_ALL=1``) turns
into failures: set-up installs both packages.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ivr.cluster.services import LocalPostgres, LocalRedis
from ivr.core.errors import ConfigError

TEMPLATE = "ivr_template"
_redis_dbs = itertools.cycle(range(1, 16))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPostgres]:
    # Not under pytest's tmp_path: as root that folder is private to root, and PostgreSQL
    # runs as the postgres user, who must reach its data folder.
    root = Path(tempfile.mkdtemp(prefix="ivr-test-pg-"))
    root.chmod(0o755)  # the postgres user passes through to its own 0700 folder
    server = LocalPostgres(root / "pg", durable=False)
    try:
        server.start()
    except ConfigError as err:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(str(err))
    try:
        server.ensure_database(TEMPLATE)
        asyncio.run(_migrate(server.url(TEMPLATE)))
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _migrate(url: str) -> None:
    from ivr.store.pg import PgDatabase

    db = await PgDatabase.open(url, pool_size=1)
    await db.close()


@pytest.fixture
async def pg_url(pg_server: LocalPostgres) -> AsyncIterator[str]:
    """A fresh migrated database (a copy of the template) for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await asyncio.to_thread(pg_server.psql, f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
    yield pg_server.url(name)
    await asyncio.to_thread(pg_server.psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    server = LocalRedis(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except ConfigError as err:
        pytest.skip(str(err))
    yield server
    server.stop()


@pytest.fixture
async def redis_url(redis_server: LocalRedis) -> AsyncIterator[str]:
    import redis.asyncio as aioredis

    url = redis_server.url(next(_redis_dbs))
    client = aioredis.from_url(url)
    await client.flushdb()
    await client.aclose()
    yield url
