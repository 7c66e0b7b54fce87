"""Login back-off state in the store (mixed into ``SqlAgentStore``; SQLite or PostgreSQL).

``reserve`` checks every key and, if all may try now, counts the attempt against all of them
in the same write transaction -- before the password is checked. Concurrent guesses therefore
see each other: the second one waits (no race between the check and the count). SQLite's write
transaction is exclusive; on PostgreSQL the keys' rows are created first and read
``FOR UPDATE`` in a fixed order, so concurrent attempts on one key (on any worker) queue
behind each other. A successful login clears its keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ivr.agents.throttle import Backoff, KeyState, after_attempt, wait_s
from ivr.store.codec import time_from_db
from ivr.store.db import Database, Tx


class LoginThrottleStore:
    _db: Database

    async def reserve_login(self, keys: Sequence[str], now: datetime,
                            backoff: Backoff) -> float:
        """0 when the attempt may go ahead (and is now counted); else seconds to wait."""
        ordered = sorted(set(keys))

        async def op(tx: Tx) -> float:
            states: dict[str, KeyState | None] = {}
            for key in ordered:
                # a placeholder row (no failures) to lock; a fresh key has no state yet
                await tx.execute("INSERT INTO login_throttle (key, failures, last_at)"
                                 " VALUES (?, -1, ?) ON CONFLICT (key) DO NOTHING", (key, now))
                rows = await tx.fetch("SELECT failures, last_at FROM login_throttle WHERE key = ?"
                                      + tx.dialect.for_update, (key,))
                fresh = not rows or int(rows[0][0]) < 0
                last = None if fresh else time_from_db(rows[0][1])
                states[key] = KeyState(int(rows[0][0]), last) if not fresh and last else None
            wait = max((wait_s(state, now, backoff) for state in states.values()), default=0.0)
            if wait > 0:
                await tx.execute("DELETE FROM login_throttle WHERE failures < 0")
                return wait
            for key, state in states.items():
                new = after_attempt(state, now, backoff)
                await tx.execute("UPDATE login_throttle SET failures = ?, last_at = ?"
                                 " WHERE key = ?", (new.failures, now, key))
            await tx.execute("DELETE FROM login_throttle WHERE last_at < ?",
                             (now - backoff.forget_after(),))
            return 0.0

        return await self._db.write(op)

    async def clear_login(self, keys: Sequence[str]) -> None:
        async def op(tx: Tx) -> None:
            for key in keys:
                await tx.execute("DELETE FROM login_throttle WHERE key = ?", (key,))

        await self._db.write(op)
