"""Migrations, crash safety, concurrency and cancellation against real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from ivr.core.errors import StoreError
from ivr.store import CallEvent, CallRecord, Counter, Role, SqliteCallStore, TurnRecord
from ivr.store.migrations import LATEST_VERSION, migrate

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def peek(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read with a fresh, independent connection, as another process would."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_open_sets_wal_foreign_keys_and_version(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    async with await SqliteCallStore.open(path):
        assert peek(path, "PRAGMA journal_mode") == [("wal",)]
        assert peek(path, "SELECT MAX(version) FROM schema_version") == [(LATEST_VERSION,)]
    async with await SqliteCallStore.open(path):  # reopening does not re-apply anything
        rows = peek(path, "SELECT version FROM schema_version ORDER BY version")
        assert rows == [(v,) for v in range(1, LATEST_VERSION + 1)]


async def test_migrates_an_existing_version_1_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=1) == 1
        await conn.execute(
            "INSERT INTO calls (call_sid, started_at, status, turns)"
            " VALUES ('CAold', '2024-01-02T03:04:05.000000+00:00', 'completed', 7)"
        )
        await conn.execute(
            "INSERT INTO turns (call_sid, seq, role, text, source) VALUES"
            " ('CAold', 1, 'caller', 'hello', 'speech')"
        )
    async with await SqliteCallStore.open(path) as store:
        old = await store.get_call("CAold")
        assert old is not None
        assert (old.status, old.turns, old.details) == ("completed", 7, {})
        assert old.started_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert [t.text for t in await store.get_turns("CAold")] == ["hello"]
        updated = await store.update_call("CAold", details={"rating": 4})
        assert updated.details == {"rating": 4}
    assert peek(path, "SELECT MAX(version) FROM schema_version") == [(LATEST_VERSION,)]


async def test_refuses_a_database_from_newer_code(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with await SqliteCallStore.open(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, 'future', '2030-01-01')")
    with pytest.raises(StoreError, match="newer"):
        await SqliteCallStore.open(path)


async def test_every_write_is_visible_to_a_fresh_connection(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = await SqliteCallStore.open(path)
    try:
        await store.create_call(CallRecord(call_sid="CA1", to_masked="13812345678"))
        assert peek(path, "SELECT call_sid, to_masked FROM calls") == [("CA1", "138****5678")]
        await store.update_call("CA1", status="in-progress")
        assert peek(path, "SELECT status FROM calls") == [("in-progress",)]
        await store.increment("CA1", Counter.BARGE_INS)
        assert peek(path, "SELECT barge_ins FROM calls") == [(1,)]
        await store.add_turn(TurnRecord("CA1", Role.CALLER, "一三八一二三四五六七八"))
        assert peek(path, "SELECT seq, text FROM turns") == [(1, "*******五六七八")]
        await store.add_event(CallEvent("CA1", "mark", at=T0, detail={"name": "greeting"}))
        assert peek(path, "SELECT kind, detail FROM events") == [("mark", '{"name": "greeting"}')]
    finally:
        await store.close()


async def test_data_survives_a_hard_process_crash(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from ivr.store import CallRecord, Role, SqliteCallStore, TurnRecord

        async def main() -> None:
            store = await SqliteCallStore.open({str(path)!r})
            await store.create_call(CallRecord(call_sid="CAcrash", status="in-progress"))
            for i in range(20):
                await store.add_turn(TurnRecord("CAcrash", Role.CALLER, f"turn {{i}}"))
                await store.increment("CAcrash", "turns")
            os._exit(9)  # no close, no checkpoint, no cleanup

        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, cwd=REPO)
    assert await proc.wait() == 9
    async with await SqliteCallStore.open(path) as store:
        call = await store.get_call("CAcrash")
        assert call is not None and call.turns == 20 and call.status == "in-progress"
        assert len(await store.get_turns("CAcrash")) == 20


async def test_fifty_concurrent_calls_never_lock(tmp_path: Path) -> None:
    async with await SqliteCallStore.open(tmp_path / "busy.db") as store:

        async def one_call(n: int) -> None:
            sid = f"CA{n:03d}"
            await store.create_call(CallRecord(call_sid=sid, status="ringing"))
            for i in range(10):
                await store.add_turn(TurnRecord(sid, Role.CALLER, f"turn {i}"))
                await store.increment(sid, Counter.TURNS)
                await store.add_event(CallEvent(sid, "mark", detail={"i": i}))
                await asyncio.sleep(0)
            await store.create_call(CallRecord(call_sid=sid, status="in-progress"))
            await store.update_call(sid, status="completed", details={"n": n})

        await asyncio.gather(*(one_call(n) for n in range(50)))
        calls = await store.list_calls(limit=100)
        assert len(calls) == 50
        assert all(c.turns == 10 and c.status == "completed" for c in calls)
        for call in calls:
            assert [t.seq for t in await store.get_turns(call.call_sid)] == list(range(1, 11))
            assert len(await store.get_events(call.call_sid)) == 10


async def test_two_stores_on_one_file_share_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first = await SqliteCallStore.open(path)
    second = await SqliteCallStore.open(path)
    try:
        await first.create_call(CallRecord(call_sid="CA1"))

        async def hammer(store: SqliteCallStore) -> None:
            for _ in range(50):
                await store.increment("CA1", Counter.TURNS)

        await asyncio.gather(hammer(first), hammer(second))
        call = await second.get_call("CA1")
        assert call is not None and call.turns == 100
    finally:
        await first.close()
        await second.close()


async def test_cancelled_writer_does_not_break_the_connection(tmp_path: Path) -> None:
    async with await SqliteCallStore.open(tmp_path / "c.db") as store:
        await store.create_call(CallRecord(call_sid="CA1"))
        writers = [
            asyncio.create_task(store.add_turn(TurnRecord("CA1", Role.BOT, f"t{i}")))
            for i in range(20)
        ]
        await asyncio.sleep(0)
        for task in writers[::2]:
            task.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
        # a cancelled caller's write still completes atomically (it is shielded) ...
        with pytest.raises(StoreError):  # ... and a failed write is rolled back
            await store.add_turn(TurnRecord("CA1", Role.BOT, "dup", seq=1))
        assert await store.add_turn(TurnRecord("CA1", Role.BOT, "after")) == 21
        turns = await store.get_turns("CA1")
        assert [t.seq for t in turns] == list(range(1, 22))
        assert turns[-1].text == "after"


async def test_open_on_unusable_path_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        await SqliteCallStore.open(tmp_path / "missing-dir" / "c.db")
    (tmp_path / "a-folder.db").mkdir()
    with pytest.raises(StoreError, match="cannot open"):
        await SqliteCallStore.open(tmp_path / "a-folder.db")
    await asyncio.sleep(0.05)  # aiosqlite's worker thread finishes after a failed connect
    with pytest.raises(StoreError):
        await SqliteCallStore.open(tmp_path / "c.db", synchronous="SOMETIMES")


def _read_in_another_process(path: Path, sql: str) -> str:
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(c.execute(sys.argv[2]).fetchone()[0]); c.close()")
    done = subprocess.run([sys.executable, "-c", code, str(path), sql], capture_output=True,
                          text=True, check=True, timeout=30)
    return done.stdout.strip()


async def test_commits_stay_visible_to_other_processes_when_several_stores_share_a_file(
        tmp_path: Path) -> None:
    """Opening a second store on the same file must not drop the first one's SQLite locks: a
    reader in another process (``ivr campaign report`` beside ``ivr serve``) would then take
    itself for the last connection on close, checkpoint and delete the WAL the server keeps
    writing to, and see nothing committed after that point."""
    path = tmp_path / "shared.db"
    async with await SqliteCallStore.open(path) as first, \
            await SqliteCallStore.open(path) as second:
        await first.create_call(CallRecord(call_sid="CA1"))
        assert await asyncio.to_thread(
            _read_in_another_process, path, "SELECT COUNT(*) FROM calls") == "1"
        await second.create_call(CallRecord(call_sid="CA2"))
        await first.create_call(CallRecord(call_sid="CA3"))
        assert await asyncio.to_thread(
            _read_in_another_process, path, "SELECT COUNT(*) FROM calls") == "3"
