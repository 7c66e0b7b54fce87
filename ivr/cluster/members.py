"""Worker liveness and capacity in Redis, and the take-over of a dead worker's leftovers.

Each worker refreshes ``ivr:worker:<id>`` (its status as JSON: URL, call capacity, live
calls) every ``heartbeat_s`` with a TTL of ``dead_after_s``, and belongs to the set
``ivr:workers``. A member whose key has expired is dead: the first worker to take its lock
(``SET NX``) runs ``on_dead`` (end its live calls with an error, book callbacks for the
callers it held, mark its in-flight dials unknown) and removes it from the set. A worker that
stops cleanly deletes its key at once, so the others take over without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from redis.exceptions import RedisError

from ivr.cluster.bus import Bus

log = logging.getLogger(__name__)
RECOVERY_LOCK_S = 120


@dataclass(frozen=True)
class WorkerStatus:
    worker: str
    url: str
    max_calls: int
    active: int
    at: float = 0.0

    @property
    def free(self) -> int:
        """Calls this worker can still accept."""
        return max(0, self.max_calls - self.active)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerStatus:
        raw = json.loads(text)
        return cls(worker=str(raw["worker"]), url=str(raw["url"]),
                   max_calls=int(raw["max_calls"]), active=int(raw["active"]),
                   at=float(raw.get("at", 0.0)))


class Membership:
    def __init__(self, bus: Bus, me: str, status: Callable[[], WorkerStatus], *,
                 heartbeat_s: float, dead_after_s: float,
                 on_dead: Callable[[str], Awaitable[None]],
                 clock: Callable[[], float] = time.time) -> None:
        self.bus, self.me = bus, me
        self._status = status
        self._heartbeat_s, self._ttl = heartbeat_s, dead_after_s
        self._on_dead = on_dead
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.recovered: list[str] = []

    async def beat(self) -> None:
        status = self._status()
        status = WorkerStatus(status.worker, status.url, status.max_calls, status.active,
                              self._clock())
        async with self.bus.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.bus.key("worker", self.me), status.to_json(),
                     px=math.ceil(self._ttl * 1000))
            pipe.sadd(self.bus.key("workers"), self.me)
            await pipe.execute()

    async def _members(self) -> list[tuple[str, str | None]]:
        """(name, status JSON or None when its heartbeat has expired), by name."""
        names = sorted(str(n) for n in await self.bus.redis.smembers(self.bus.key("workers")))
        if not names:
            return []
        values = await self.bus.redis.mget([self.bus.key("worker", n) for n in names])
        return [(n, None if v is None else str(v)) for n, v in zip(names, values, strict=True)]

    async def workers(self) -> list[WorkerStatus]:
        """The live workers (this one included), by name."""
        return [WorkerStatus.from_json(v) for _, v in await self._members() if v]

    async def dead(self) -> list[str]:
        return [n for n, v in await self._members() if v is None and n != self.me]

    async def sweep(self) -> list[str]:
        """Take over every dead worker whose recovery no one else has claimed."""
        done = []
        for worker in await self.dead():
            lock = self.bus.key("recovering", worker)
            if not await self.bus.redis.set(lock, self.me, nx=True, ex=RECOVERY_LOCK_S):
                continue
            try:
                if await self.bus.redis.exists(self.bus.key("worker", worker)):
                    continue  # it came back meanwhile
                log.warning("worker %s stopped answering: taking over its calls", worker)
                await self._on_dead(worker)
                await self.bus.redis.srem(self.bus.key("workers"), worker)
                done.append(worker)
                self.recovered.append(worker)
            finally:
                await self.bus.redis.delete(lock)
        return done

    async def start(self) -> None:
        await self.beat()
        self._task = asyncio.create_task(self._run(), name="cluster-membership")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                await self.beat()
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as err:
                log.warning("cluster heartbeat failed: %s", err)
            except Exception:
                log.exception("taking over a dead worker failed; trying again")

    async def leave(self) -> None:
        """Stop beating and say so at once (the others then take over what is left)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(RedisError, OSError):
            await self.bus.redis.delete(self.bus.key("worker", self.me))
