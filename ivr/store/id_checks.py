"""Stored ID digits as keyed hashes, and failed ID checks per customer (mixed into
``SqliteCustomerStore``).

``record_id_attempt`` reads the customer's failure state, decides (``ivr.customers.identity``)
and writes the new state in one transaction, so two calls for one customer at the same moment
cannot both get a fresh attempt.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from ivr.customers.identity import IdPolicy, IdVerdict, decide
from ivr.customers.model import IdLock
from ivr.store.codec import time_from_db, time_to_db
from ivr.store.connection import Connection, fetch_rows


def _lock_from(row: object) -> IdLock:
    failures, last, until = row[0], row[1], row[2]  # type: ignore[index]
    return IdLock(int(failures), time_from_db(last), time_from_db(until))


class IdCheckStore:
    _db: Connection

    async def id_lock(self, customer_id: str) -> IdLock:
        rows = await self._db.fetch("SELECT failures, last_failure_at, locked_until FROM id_locks"
                                    " WHERE customer_id = ?", (customer_id,))
        return _lock_from(rows[0]) if rows else IdLock()

    async def record_id_attempt(self, customer_id: str, ok: bool, now: datetime,
                                policy: IdPolicy) -> IdVerdict:
        async def op(conn: aiosqlite.Connection) -> IdVerdict:
            rows = await fetch_rows(conn, "SELECT failures, last_failure_at, locked_until"
                                    " FROM id_locks WHERE customer_id = ?", (customer_id,))
            lock, verdict = decide(_lock_from(rows[0]) if rows else IdLock(), ok, now, policy)
            await conn.execute(
                "INSERT INTO id_locks (customer_id, failures, last_failure_at, locked_until)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET"
                " failures = excluded.failures, last_failure_at = excluded.last_failure_at,"
                " locked_until = excluded.locked_until",
                (customer_id, lock.failures, time_to_db(lock.last_failure_at),
                 time_to_db(lock.locked_until)))
            return verdict

        return await self._db.write(op)

    async def plain_ids(self) -> list[tuple[str, str]]:
        """(customer id, plain ID digits) of rows written before the digits were hashed."""
        rows = await self._db.fetch(
            "SELECT customer_id, id_last4 FROM customers WHERE id_last4 IS NOT NULL")
        return [(str(r[0]), str(r[1])) for r in rows]

    async def set_id_hashes(self, items: list[tuple[str, str, bool]]) -> None:
        """Store (customer id, hash, ends with X) and erase the plain digits."""

        async def op(conn: aiosqlite.Connection) -> None:
            for customer_id, digest, ends_x in items:
                await conn.execute(
                    "UPDATE customers SET id_hash = ?, id_ends_with_x = ?, id_last4 = NULL"
                    " WHERE customer_id = ?", (digest, int(ends_x), customer_id))

        await self._db.write(op)
