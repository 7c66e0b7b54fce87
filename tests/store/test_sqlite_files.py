"""SQLite specifics: stores sharing one file, migrating an old file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from ivr.store.customers import SqliteCustomerStore
from ivr.store.migrations import LATEST_VERSION, migrate
from ivr.store.sqlite import SqliteCallStore
from tests.customers.customer_samples import customer


async def test_shares_the_call_store_file(tmp_path: Path) -> None:
    path = tmp_path / "ivr.db"
    async with await SqliteCallStore.open(path), await SqliteCustomerStore.open(path) as store:
        await store.upsert_customers([customer()])
    async with await SqliteCustomerStore.open(path) as reopened:
        assert await reopened.get_customer("c-001") == customer()


async def test_migrates_a_version_2_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=2) == 2
    async with await SqliteCustomerStore.open(path) as store:
        await store.upsert_customers([customer()])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (
            LATEST_VERSION,)
    assert LATEST_VERSION >= 3
