"""The SQL seam every store is written against, for SQLite and PostgreSQL alike.

A store sends one SQL text to either backend: ``?`` placeholders (PostgreSQL's ``$n`` are
made by :func:`ivr.store.pg.numbered`), ``RETURNING``, ``ON CONFLICT``, and the few
differences named in :class:`Dialect` (``FOR UPDATE SKIP LOCKED``, ``GREATEST``). Parameters
are Python values -- aware datetimes, bools, ints, floats, str -- and each backend converts
them (SQLite stores times as fixed-width UTC text, PostgreSQL as ``timestamptz``). Rows are
read by column name or position (``sqlite3.Row`` and ``asyncpg.Record`` both allow it).

Writes run in :meth:`Database.write`: one committed transaction per call, shielded from
cancellation, so a cancelled caller never leaves half a transaction open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from ivr.core.errors import StoreError

T = TypeVar("T")
Row = Any  # sqlite3.Row or asyncpg.Record: row["column"] and row[0]
NUL_REPLACEMENT = "\ufffd"  # PostgreSQL text cannot hold NUL; SQLite gets the same value


class StoreConflict(StoreError):
    """A unique key already exists (username, campaign id, ...)."""


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"

    @property
    def skip_locked(self) -> str:
        """Appended to a ``SELECT`` that claims rows: other workers skip rows being claimed.
        SQLite serializes writers, so its claim needs no row lock."""
        return " FOR UPDATE SKIP LOCKED" if self is Dialect.POSTGRES else ""

    @property
    def for_update(self) -> str:
        """Appended to a ``SELECT`` whose rows the transaction then rewrites (read-modify-
        write); SQLite's write transactions are already exclusive."""
        return " FOR UPDATE" if self is Dialect.POSTGRES else ""

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self is Dialect.POSTGRES else f"MAX({a}, {b})"


def common_value(value: Any) -> Any:
    """The conversions both backends share: enums by value, NUL characters replaced."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", NUL_REPLACEMENT)
    return value


class Tx(Protocol):
    """One open write transaction."""

    dialect: Dialect

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """All rows of one statement (``RETURNING`` rows for a write)."""
        ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...


Op = Callable[[Tx], Awaitable[T]]


class Database(Protocol):
    """A migrated database: plain reads, and writes each in its own transaction."""

    dialect: Dialect

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def write(self, op: Op[T]) -> T:
        """Run ``op`` in one committed transaction (rolled back if it raises)."""
        ...

    async def close(self) -> None:
        """Let writes in flight finish, then close. Idempotent."""
        ...
