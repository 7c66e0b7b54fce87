"""The store contract suite: every test here runs against SQLite and a real PostgreSQL
(started by ``tests/harness/plugin.py``), through the same interfaces the app uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ivr.store.db import Database, Tx
from ivr.store.factory import Stores, StoreTarget, open_stores

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    if request.param == "sqlite":
        return StoreTarget.parse(tmp_path / "ivr.sqlite3")
    return StoreTarget.parse(request.getfixturevalue("pg_url"), pool_size=4)


@pytest.fixture
async def stores(target: StoreTarget) -> AsyncIterator[Stores]:
    opened = await open_stores(target)
    try:
        yield opened
    finally:
        await opened.close()


async def raw(db: Database, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run SQL behind the store's back (to corrupt or inspect rows) on either backend."""
    async def op(tx: Tx) -> list[Any]:
        return await tx.fetch(sql, params)

    return await db.write(op)
