"""One worker's link to Redis: commands on a pooled client, and one pub/sub connection whose
messages are dispatched to async handlers by channel.

Pub/sub is fire-and-forget: a worker that is disconnected misses messages. Users of the bus
treat a message as a hint to re-read the store (the queue feed) or wait for an answer with a
timeout (handoff offers), so a lost message costs a refresh, never a wrong state. The
listener reconnects by itself; ``start`` waits until the subscriptions are live.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ivr.core.errors import IvrError

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], Awaitable[None]]
RECONNECT_S = 1.0


class BusError(IvrError):
    """Redis is unreachable or refused a command."""


class Bus:
    def __init__(self, client: aioredis.Redis, prefix: str = "ivr") -> None:
        self.redis = client
        self.prefix = prefix
        self._handlers: dict[str, Handler] = {}
        self._task: asyncio.Task[None] | None = None
        self._live = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_url(cls, url: str, prefix: str = "ivr") -> Bus:
        return cls(aioredis.from_url(url, decode_responses=True, socket_timeout=5,
                                     socket_connect_timeout=5, health_check_interval=15),
                   prefix)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def on(self, channel: str, handler: Handler) -> None:
        """Call ``handler`` with each JSON message of ``channel`` (register before start)."""
        self._handlers[channel] = handler

    async def publish(self, channel: str, message: dict[str, Any]) -> int:
        """Send ``message``; returns how many subscribers got it."""
        try:
            return int(await self.redis.publish(channel, json.dumps(message)))
        except RedisError as err:
            raise BusError(f"redis publish failed: {err}") from err

    async def start(self, timeout_s: float = 10.0) -> None:
        try:
            await self.redis.ping()
        except RedisError as err:
            raise BusError(f"cannot reach redis: {err}") from err
        self._task = asyncio.create_task(self._listen(), name="redis-bus")
        try:
            await asyncio.wait_for(self._live.wait(), timeout_s)
        except TimeoutError as err:
            raise BusError("redis subscriptions did not start") from err

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.aclose()

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                if self._handlers:
                    await pubsub.subscribe(*self._handlers)
                self._live.set()
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is not None and msg.get("type") == "message":
                        self._dispatch(str(msg["channel"]), str(msg["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as err:
                log.warning("redis subscription lost (%s); reconnecting", err)
                await asyncio.sleep(RECONNECT_S)
            finally:
                with contextlib.suppress(Exception):
                    await cast(Any, pubsub).aclose()  # untyped in some redis releases

    def _dispatch(self, channel: str, data: str) -> None:
        handler = self._handlers.get(channel)
        if handler is None:
            return
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("ignoring a malformed message on %s", channel)
            return
        if not isinstance(message, dict):
            return
        task = asyncio.create_task(self._run(handler, channel, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(handler: Handler, channel: str, message: dict[str, Any]) -> None:
        try:
            await handler(message)
        except Exception:
            log.exception("handler of %s failed", channel)
