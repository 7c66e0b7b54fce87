"""The PostgreSQL database (``store.url = "postgresql://..."``) on an asyncpg pool.

One pool per worker, shared by every store. A write runs ``op`` in its own transaction
(READ COMMITTED; stores lock what they rewrite with ``FOR UPDATE`` and claim with ``FOR UPDATE
SKIP LOCKED``), shielded from cancellation, retried on a deadlock or serialization failure.
Schema migrations (``ivr.store.pg_migrations``) run at open under an advisory lock, so workers
starting together apply each one once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ivr.core.errors import StoreError
from ivr.store.db import Dialect, Op, StoreConflict, Tx, common_value
from ivr.store.pg_migrations import PG_MIGRATIONS
from ivr.store.writes import ShieldedWrites

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATION_LOCK = 0x1F5C_0A11  # pg_advisory_xact_lock key of the schema migrations
RETRIES = 3
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def redact(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (quoted text left alone)."""
    out: list[str] = []
    count, quote = 0, ""
    for ch in sql:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(ch)
    return "".join(out)


def pg_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise StoreError(f"naive datetime {value!r} given to the store")
        return value.astimezone(UTC)
    return common_value(value)


def _params(params: Sequence[Any]) -> list[Any]:
    return [pg_value(v) for v in params]


def _error(err: BaseException, what: str) -> StoreError:
    if isinstance(err, asyncpg.UniqueViolationError):
        return StoreConflict(f"{what}: {err}")
    return StoreError(f"{what}: {type(err).__name__}: {err}")


class _PgTx:
    dialect = Dialect.POSTGRES

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._conn.fetch(numbered(sql), *_params(params)))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._conn.execute(numbered(sql), *_params(params))



class PgDatabase:
    """The PostgreSQL :class:`~ivr.store.db.Database`."""

    dialect = Dialect.POSTGRES

    def __init__(self, pool: asyncpg.Pool, *, acquire_timeout_s: float = 30.0) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout_s
        self._writes = ShieldedWrites()

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 10,
                   connect_timeout_s: float = 10.0) -> PgDatabase:
        """Connect (``url`` as libpq takes it; ``PGPASSWORD`` works) and migrate."""
        try:
            pool = await asyncpg.create_pool(
                dsn=url, min_size=1, max_size=pool_size, timeout=connect_timeout_s,
                server_settings={"application_name": "ivr", "timezone": "UTC"})
        except (*_DRIVER_ERRORS, ValueError) as err:
            raise StoreError(f"cannot open store {redact(url)}: {err}") from err
        db = cls(pool)
        try:
            await db.migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def migrate(self) -> int:
        """Apply every missing migration (one transaction); return the schema version."""
        async def op(tx: Tx) -> int:
            await tx.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY,"
                " description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
            rows = await tx.fetch("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            version = int(rows[0][0])
            latest = PG_MIGRATIONS[-1].version
            if version > latest:
                raise StoreError(f"database schema version {version} is newer than this "
                                 f"code ({latest})")
            for migration in PG_MIGRATIONS:
                if migration.version > version:
                    for statement in migration.statements:
                        await tx.execute(statement)
                    await tx.execute(
                        "INSERT INTO schema_version (version, description, applied_at)"
                        " VALUES (?, ?, ?)",
                        (migration.version, migration.description, datetime.now(UTC)))
                    version = migration.version
            return version

        try:
            return await self._transaction(op)
        except StoreError as err:
            raise StoreError(f"schema migration failed: {err}") from err

    async def close(self) -> None:
        if await self._writes.close():
            await self._pool.close()

    def _check_open(self) -> None:
        self._writes.check_open()

    async def write(self, op: Op[T]) -> T:
        return await self._writes.run(lambda: self._transaction(op))

    async def _transaction(self, op: Op[T]) -> T:
        for attempt in range(1, RETRIES + 1):
            try:
                async with (self._pool.acquire(timeout=self._acquire_timeout) as conn,
                            conn.transaction()):
                    return await op(_PgTx(conn))
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as err:
                if attempt == RETRIES:
                    raise _error(err, "store write failed") from err
                log.info("store write retried after %s", type(err).__name__)
            except _DRIVER_ERRORS as err:
                raise _error(err, "store write failed") from err
        raise AssertionError("unreachable")

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self._check_open()
        try:
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                return list(await conn.fetch(numbered(sql), *_params(params)))
        except _DRIVER_ERRORS as err:
            raise _error(err, "store read failed") from err
