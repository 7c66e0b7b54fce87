"""Both backends have the same schema: the same migrations (versions and descriptions), the
same tables, columns (in order), nullability, column type families and index names. A table
or column added to one backend only fails here."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from ivr.store.migrations import MIGRATIONS
from ivr.store.pg_migrations import PG_MIGRATIONS
from ivr.store.sqlite import SqliteCallStore
from tests.store.contract.conftest import raw

# SQLite declared type -> the PostgreSQL types that may stand for it
FAMILIES = {
    "TEXT": {"text", "timestamp with time zone"},
    "INTEGER": {"bigint", "boolean"},
    "REAL": {"double precision"},
}


def test_same_migrations() -> None:
    assert [(m.version, m.description) for m in MIGRATIONS] == [
        (m.version, m.description) for m in PG_MIGRATIONS]


async def _sqlite_schema(path: Path) -> tuple[dict[str, list[tuple[str, bool, str]]], set[str]]:
    async with await SqliteCallStore.open(path) as store:
        tables = [r[0] for r in await raw(
            store.db, "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%'")]
        schema = {}
        for table in tables:
            rows = await raw(store.db, f"PRAGMA table_info({table})")
            schema[table] = [(r["name"], bool(r["notnull"] or r["pk"]), r["type"].upper())
                             for r in rows]
        indexes = {r[0] for r in await raw(
            store.db, "SELECT name FROM sqlite_master WHERE type = 'index'"
            " AND name NOT LIKE 'sqlite_%'")}
    return schema, indexes


async def _pg_schema(url: str) -> tuple[dict[str, list[tuple[str, bool, str]]], set[str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name, is_nullable, data_type"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " ORDER BY table_name, ordinal_position")
        indexes = {r[0] for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            " AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'")}
    finally:
        await conn.close()
    schema: dict[str, list[tuple[str, bool, str]]] = {}
    for r in rows:
        schema.setdefault(r["table_name"], []).append(
            (r["column_name"], r["is_nullable"] == "NO", r["data_type"]))
    return schema, indexes


async def test_same_tables_columns_types_and_indexes(tmp_path: Path, pg_url: str) -> None:
    lite, lite_indexes = await _sqlite_schema(tmp_path / "ivr.sqlite3")
    pg, pg_indexes = await _pg_schema(pg_url)
    assert sorted(lite) == sorted(pg)
    for table, columns in lite.items():
        assert [(n, nn) for n, nn, _ in columns] == [(n, nn) for n, nn, _ in pg[table]], table
        for (name, _, lite_type), (_, _, pg_type) in zip(columns, pg[table], strict=True):
            assert pg_type in FAMILIES[lite_type], f"{table}.{name}: {lite_type} vs {pg_type}"
    assert lite_indexes == pg_indexes
