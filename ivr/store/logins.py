"""Login back-off state in the store (mixed into ``SqliteAgentStore``).

``reserve`` checks every key and, if all may try now, counts the attempt against all of them
in the same write transaction -- before the password is checked. Concurrent guesses therefore
see each other: the second one waits (no race between the check and the count). A successful
login clears its keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from ivr.agents.throttle import Backoff, KeyState, after_attempt, wait_s
from ivr.store.codec import time_from_db, time_to_db
from ivr.store.connection import Connection, fetch_rows


class LoginThrottleStore:
    _db: Connection

    async def reserve_login(self, keys: Sequence[str], now: datetime,
                            backoff: Backoff) -> float:
        """0 when the attempt may go ahead (and is now counted); else seconds to wait."""

        async def op(conn: aiosqlite.Connection) -> float:
            states: dict[str, KeyState | None] = {}
            for key in keys:
                rows = await fetch_rows(conn, "SELECT failures, last_at FROM login_throttle"
                                        " WHERE key = ?", (key,))
                last = time_from_db(rows[0][1]) if rows else None
                states[key] = KeyState(int(rows[0][0]), last) if rows and last else None
            wait = max((wait_s(state, now, backoff) for state in states.values()), default=0.0)
            if wait > 0:
                return wait
            for key, state in states.items():
                new = after_attempt(state, now, backoff)
                await conn.execute(
                    "INSERT INTO login_throttle (key, failures, last_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,"
                    " last_at = excluded.last_at", (key, new.failures, time_to_db(now)))
            await conn.execute("DELETE FROM login_throttle WHERE last_at < ?",
                               (time_to_db(now - backoff.forget_after()),))
            return 0.0

        return await self._db.write(op)

    async def clear_login(self, keys: Sequence[str]) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            for key in keys:
                await conn.execute("DELETE FROM login_throttle WHERE key = ?", (key,))

        await self._db.write(op)
