"""Opening every store of a worker from the configuration: SQLite or PostgreSQL.

``store.url`` empty (or ``sqlite:///path``): one SQLite file, each store on its own
connection (the embedded default of ``make run``). ``store.url = "postgresql://..."``: one
asyncpg pool shared by all four stores, for several workers on one database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from ivr.store.base import CallStore
from ivr.store.connection import Connection
from ivr.store.customers import CustomerStore
from ivr.store.db import Database, Dialect
from ivr.store.protocols import AgentStore, CampaignStore
from ivr.store.sqlbase import SqlStore

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StoreTarget:
    """Where the stores live: a SQLite file or a PostgreSQL URL."""

    dialect: Dialect
    sqlite_path: Path | None = None
    url: str = ""
    pool_size: int = 10

    @classmethod
    def parse(cls, value: str | Path, *, base: Path = PROJECT_ROOT,
              pool_size: int = 10) -> StoreTarget:
        """A ``postgresql://`` URL, a ``sqlite:///`` URL, or a plain SQLite file path."""
        text = str(value)
        scheme = urlsplit(text).scheme
        if scheme in ("postgresql", "postgres"):
            return cls(Dialect.POSTGRES, url=text, pool_size=pool_size)
        if scheme == "sqlite":
            text = text.removeprefix("sqlite:///")
        path = Path(text).expanduser()
        return cls(Dialect.SQLITE, sqlite_path=path if path.is_absolute() else base / path)

    @classmethod
    def from_settings(cls, url: str, sqlite_path: Path, pool_size: int = 10) -> StoreTarget:
        """From ``store.url`` (empty: SQLite at ``store.sqlite_path``) and ``store.pool_size``."""
        if not url:
            return cls(Dialect.SQLITE, sqlite_path=sqlite_path)
        return cls.parse(url, pool_size=pool_size)

    def describe(self) -> str:
        if self.dialect is Dialect.SQLITE:
            return f"SQLite {self.sqlite_path}"
        from ivr.store.pg import redact

        return f"PostgreSQL {redact(self.url)}"


@dataclass
class Stores:
    calls: CallStore
    customers: CustomerStore
    agents: AgentStore
    campaigns: CampaignStore
    target: StoreTarget
    shared: list[Database] = field(default_factory=list)

    async def close(self) -> None:
        for store in (self.campaigns, self.agents, self.customers, self.calls):
            await store.close()
        for db in self.shared:
            await db.close()


async def open_database(target: StoreTarget) -> Database:
    """One migrated database for ``target`` (SQLite connection or PostgreSQL pool)."""
    if target.dialect is Dialect.POSTGRES:
        from ivr.store.pg import PgDatabase

        return await PgDatabase.open(target.url, pool_size=target.pool_size)
    assert target.sqlite_path is not None
    target.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return await Connection.open(target.sqlite_path)


async def open_stores(target: StoreTarget) -> Stores:
    from ivr.store.agents import SqlAgentStore
    from ivr.store.campaigns import SqlCampaignStore
    from ivr.store.customers import SqlCustomerStore
    from ivr.store.sqlite import SqlCallStore

    if target.dialect is Dialect.POSTGRES:
        db = await open_database(target)
        return Stores(SqlCallStore(db, owns_db=False), SqlCustomerStore(db, owns_db=False),
                      SqlAgentStore(db, owns_db=False), SqlCampaignStore(db, owns_db=False),
                      target, shared=[db])
    # SQLite: a connection per store, as each serializes its own writes
    dbs: list[Database] = []
    try:
        for _ in range(4):
            dbs.append(await open_database(target))
    except BaseException:
        for db in dbs:
            await db.close()
        raise
    return Stores(SqlCallStore(dbs[0]), SqlCustomerStore(dbs[1]), SqlAgentStore(dbs[2]),
                  SqlCampaignStore(dbs[3]), target)


S = TypeVar("S", bound=SqlStore)


async def open_store(cls: type[S], target: StoreTarget) -> S:
    """One store on its own database (a CLI command; ``async with`` closes it)."""
    return cls(await open_database(target))
