"""The database file and its WAL files are private to their owner (mode 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ivr.store.records import CallRecord
from ivr.store.sqlite import SqliteCallStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_new_database_and_wal_files_are_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "ivr.sqlite3"
        async with await SqliteCallStore.open(path) as store:
            await store.create_call(CallRecord(call_sid="CA1"))
            files = [path, tmp_path / "ivr.sqlite3-wal", tmp_path / "ivr.sqlite3-shm"]
            for file in files:
                assert file.exists(), file
                assert mode(file) == 0o600, (file, oct(mode(file)))
    finally:
        os.umask(old)


async def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "ivr.sqlite3"
    async with await SqliteCallStore.open(path) as store:
        await store.create_call(CallRecord(call_sid="CA1"))
    path.chmod(0o644)
    async with await SqliteCallStore.open(path) as store:
        assert await store.get_call("CA1") is not None
    assert mode(path) == 0o600
