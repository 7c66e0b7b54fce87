"""Shielded writes, shared by both store backends: a write runs to its commit even if its caller
is cancelled (the caller hung up mid-turn), and closing the store waits for writes in flight."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ivr.core.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shielded write's error as seen even if its caller was cancelled meanwhile."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("store write failed: %s", task.exception())


class ShieldedWrites:
    def __init__(self) -> None:
        self._pending: set[asyncio.Task[Any]] = set()
        self.closed = False

    def check_open(self) -> None:
        if self.closed:
            raise StoreError("store is closed")

    async def run(self, transaction: Callable[[], Awaitable[T]]) -> T:
        """Run ``transaction()`` to its end, whatever happens to the caller."""
        self.check_open()
        task: asyncio.Task[T] = asyncio.ensure_future(transaction())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def close(self) -> bool:
        """Refuse new writes and wait for those in flight; False if already closed."""
        if self.closed:
            return False
        self.closed = True
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        return True
