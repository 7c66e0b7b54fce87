"""In-process fan-out of queue changes to subscribers (dashboards), bounded per subscriber.

A slow subscriber never blocks the queue: when its buffer is full the oldest change is
dropped and counted (``Subscription.dropped``; ``ChangeFeed.dropped`` totals them). Readers
that need the whole picture re-read the queue on each change, so a drop loses nothing.

With several workers, ``forward`` sends each change made here to the others
(``ivr.cluster.feed_bridge``), and their changes arrive through ``publish_remote``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ivr.agents.model import QueueChange

log = logging.getLogger(__name__)
DEFAULT_BUFFER = 100


class Subscription:
    """Registered as soon as it is created; iterate it, or ``await next(wait_s)``."""

    def __init__(self, feed: ChangeFeed, size: int) -> None:
        self._feed = feed
        self._queue: asyncio.Queue[QueueChange | None] = asyncio.Queue(size)
        self.dropped = 0
        self.closed = False

    def _offer(self, change: QueueChange | None) -> None:
        while True:
            try:
                self._queue.put_nowait(change)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._queue.get_nowait()
                    self.dropped += 1
                    self._feed.dropped += 1

    async def next(self, wait_s: float | None = None) -> QueueChange | None:
        """The next change; None after ``wait_s`` seconds or once closed."""
        if self.closed and self._queue.empty():
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), wait_s)
        except TimeoutError:
            return None

    def drain(self) -> list[QueueChange]:
        """Changes already buffered, without waiting."""
        out: list[QueueChange] = []
        while not self._queue.empty():
            change = self._queue.get_nowait()
            if change is not None:
                out.append(change)
        return out

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> QueueChange:
        change = await self.next()
        if change is None:
            raise StopAsyncIteration
        return change

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._feed._remove(self)
            self._offer(None)  # wakes a reader blocked in next()

    async def aclose(self) -> None:
        self.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class ChangeFeed:
    def __init__(self, buffer: int = DEFAULT_BUFFER) -> None:
        self._buffer = buffer
        self._subscribers: list[Subscription] = []
        self.dropped = 0
        self.published = 0
        self.forward: Callable[[QueueChange], None] | None = None  # to the other workers

    def subscribe(self, buffer: int | None = None) -> Subscription:
        sub = Subscription(self, buffer or self._buffer)
        self._subscribers.append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, change: QueueChange) -> None:
        """A change made by this worker: to local subscribers and to the other workers."""
        self.publish_remote(change)
        if self.forward is not None:
            self.forward(change)

    def publish_remote(self, change: QueueChange) -> None:
        """A change made by another worker: to local subscribers only."""
        self.published += 1
        for sub in list(self._subscribers):
            sub._offer(change)
