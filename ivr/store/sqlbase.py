"""The life cycle every SQL store shares, on either backend (``ivr.store.db.Database``).

``await Store.open(path)`` opens its own SQLite file (the embedded default; the store then
owns and closes it); ``Store(db, owns_db=False)`` shares a database opened elsewhere, e.g. one
PostgreSQL pool for every store of a worker (``ivr.store.factory.open_stores``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ivr.store.connection import Connection
from ivr.store.db import Database, Row, Tx


class SqlStore:
    def __init__(self, db: Database, *, owns_db: bool = True) -> None:
        self._db = db
        self._owns_db = owns_db

    @property
    def db(self) -> Database:
        return self._db

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout_ms: int = 5000,
                   synchronous: str = "NORMAL") -> Self:
        """Open (creating and migrating if needed) the SQLite database at ``path``."""
        return cls(await Connection.open(path, busy_timeout_ms=busy_timeout_ms,
                                         synchronous=synchronous))

    async def close(self) -> None:
        if self._owns_db:
            await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def _write_rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One statement in its own transaction; its ``RETURNING`` rows."""
        async def op(tx: Tx) -> list[Row]:
            return await tx.fetch(sql, params)

        return await self._db.write(op)
