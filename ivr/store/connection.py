"""The SQLite database: one aiosqlite connection set up with WAL, foreign keys, busy timeout,
and serialized write transactions (the SQLite side of ``ivr.store.db.Database``).

All writes go through :class:`Connection.write`, one at a time (an ``asyncio.Lock``), each in
its own ``BEGIN IMMEDIATE ... COMMIT``: many calls writing from one event loop never see
"database is locked", and a process crash loses at most the write in flight. A write is
shielded from cancellation, so a cancelled caller never leaves half a transaction open.
``busy_timeout`` covers other processes (or stores) using the same file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ivr.core.errors import StoreError
from ivr.store.db import Dialect, Op, StoreConflict, common_value
from ivr.store.migrations import migrate
from ivr.store.writes import ShieldedWrites

log = logging.getLogger(__name__)
T = TypeVar("T")
SYNCHRONOUS_MODES = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})


def _check_folder(path: Path) -> None:
    # A failed aiosqlite.connect leaves its worker thread posting to the loop later; catch
    # the common failure (no such folder) before connecting.
    if not path.parent.is_dir():
        raise StoreError(f"cannot open store {path}: folder {path.parent} does not exist")


def _private(path: Path) -> None:
    """The database (and its WAL files, which SQLite creates with the database's mode) is
    readable by its owner only: it holds call transcripts and customer records.

    An existing database file is never opened here: closing any descriptor of a file drops
    every POSIX lock this process holds on it, including the SQLite connections' own. Another
    process closing its connection would then believe it was the last one, checkpoint and
    delete the WAL that this process keeps writing to: its later commits would be invisible
    to every other process and lost in a crash."""
    try:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if file.exists() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
    except OSError as err:
        raise StoreError(f"cannot open store {path}: {err}") from err


async def connect(path: Path, busy_timeout_ms: int, synchronous: str) -> aiosqlite.Connection:
    """Open ``path`` in autocommit mode, set the pragmas and migrate the schema."""
    if synchronous.upper() not in SYNCHRONOUS_MODES:
        raise StoreError(f"invalid synchronous mode {synchronous!r}")
    _check_folder(path)
    _private(path)
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as err:
        raise StoreError(f"cannot open store {path}: {err}") from err
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        async with conn.execute("PRAGMA journal_mode = WAL") as cur:
            row = await cur.fetchone()
        if row is None or str(row[0]).lower() != "wal":
            raise StoreError(f"cannot enable WAL on {path}")
        await conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await migrate(conn)
    except BaseException as err:
        await conn.close()
        if isinstance(err, sqlite3.Error):
            raise StoreError(f"cannot open store {path}: {err}") from err
        raise
    return conn



def sqlite_value(value: Any) -> Any:
    """A parameter as SQLite stores it: times as fixed-width UTC text, enums by value."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise StoreError(f"naive datetime {value!r} given to the store")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return common_value(value)


def _params(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(sqlite_value(v) for v in params)


def _error(err: sqlite3.Error, what: str) -> StoreError:
    if isinstance(err, sqlite3.IntegrityError) and "UNIQUE" in str(err):
        return StoreConflict(f"{what}: {err}")
    return StoreError(f"{what}: {err}")


class _SqliteTx:
    dialect = Dialect.SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, _params(params)) as cur:
            return list(await cur.fetchall())

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await (await self._conn.execute(sql, _params(params))).close()


class Connection:
    """The SQLite :class:`~ivr.store.db.Database`: serialized writes and plain reads over
    one aiosqlite connection."""

    dialect = Dialect.SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._writes = ShieldedWrites()

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout_ms: int = 5000,
                   synchronous: str = "NORMAL") -> Connection:
        """Open (creating and migrating if needed) the database at ``path``.

        ``synchronous=NORMAL`` with WAL keeps every commit across a process crash; use
        ``FULL`` to also keep the last commits across power loss."""
        return cls(await connect(Path(path), busy_timeout_ms, synchronous))

    async def close(self) -> None:
        """Let writes in flight finish, then close. Idempotent."""
        if await self._writes.close():
            await self._conn.close()

    def _check_open(self) -> None:
        self._writes.check_open()

    async def write(self, op: Op[T]) -> T:
        """Run ``op`` in its own committed transaction, after all earlier writes."""
        return await self._writes.run(lambda: self._transaction(op))

    async def _transaction(self, op: Op[T]) -> T:
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = await op(_SqliteTx(self._conn))
                    await self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as err:
                raise _error(err, "store write failed") from err
            return result

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        self._check_open()
        try:
            # One worker-thread job: a write transaction on this connection can never start
            # between the SELECT's first step and its last (that would hold a stale read
            # snapshot and make BEGIN IMMEDIATE fail at once with "database is locked").
            return list(await self._conn.execute_fetchall(sql, _params(params)))
        except sqlite3.Error as err:
            raise _error(err, "store read failed") from err
