"""One call's store writes, in order, off the call's critical path.

Commands from the controller become store operations queued here and run one at a time by
``run``; a failed write is logged and never breaks the call. The queue is bounded: beyond it
writes are dropped and counted. ``flush`` waits (bounded) until everything queued is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ivr.call import commands as c
from ivr.core.pii import mask_text
from ivr.store.base import Store
from ivr.store.records import CallEvent, Counter, Role, TurnRecord

log = logging.getLogger(__name__)

Op = Callable[[], Awaitable[Any]]


class CallRecorder:
    def __init__(self, store: Store, call_id: str, *, max_ops: int = 2000) -> None:
        self._store = store
        self.call_id = call_id
        self._ops: deque[Op] = deque()
        self._max = max_ops
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self.dropped = 0

    def put(self, op: Op) -> None:
        if len(self._ops) >= self._max:
            self.dropped += 1
            if self.dropped == 1:
                log.warning("call %s: store writes backed up, dropping", self.call_id)
            return
        self._ops.append(op)
        self._empty.clear()
        self._wake.set()

    def turn(self, cmd: c.RecordTurn) -> None:
        now = datetime.now(UTC)
        record = TurnRecord(
            call_sid=self.call_id, role=cmd.role, text=mask_text(cmd.text), source=cmd.source,
            expectation=cmd.expectation, started_at=now, ended_at=now, asr_ms=cmd.asr_ms,
            dialogue_ms=cmd.dialogue_ms, tts_ms=cmd.tts_ms, latency_ms=cmd.latency_ms,
            barge_in=cmd.barge_in, interrupted=False, confidence=cmd.confidence,
        )
        self.put(lambda: self._store.add_turn(record))
        if cmd.role is Role.CALLER:
            self.put(lambda: self._store.increment(self.call_id, Counter.TURNS))

    def event(self, kind: str, code: str = "", detail: dict[str, Any] | None = None) -> None:
        event = CallEvent(call_sid=self.call_id, at=datetime.now(UTC), kind=kind, code=code,
                          detail=dict(detail or {}))
        self.put(lambda: self._store.add_event(event))

    def count(self, counter: str, by: int = 1) -> None:
        self.put(lambda: self._store.increment(self.call_id, counter, by))

    def update(self, **fields: Any) -> None:
        self.put(lambda: self._store.update_call(self.call_id, **fields))

    async def run(self) -> None:
        while True:
            if not self._ops:
                self._empty.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            op = self._ops.popleft()
            try:
                await op()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call %s: store write failed", self.call_id)

    async def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every queued write is done; False if that took too long."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout_s)
        except TimeoutError:
            return False
        return True
