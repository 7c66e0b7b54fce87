"""What a media socket writes about errors -- bounded: the first few malformed messages as
events (kept until the call is known), one summary of the rest with the count, and a breach as
the call's error. Store failures are logged, never raised into the socket."""

from __future__ import annotations

import logging

from ivr.store.base import Store
from ivr.store.records import CallEvent

log = logging.getLogger(__name__)


class ErrorRecords:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.call_sid = ""
        self._pending: list[tuple[str, str]] = []
        self.recorded = 0

    async def _add(self, event: CallEvent) -> None:
        try:
            await self._store.add_event(event)
        except Exception as exc:
            log.warning("call %s: could not record %s: %s", self.call_sid[:10], event.kind, exc)

    async def attach(self, call_sid: str) -> None:
        """The stream now belongs to ``call_sid``: write what was kept before ``start``."""
        self.call_sid = call_sid
        for code, message in self._pending:
            await self.wire_error(code, message)
        self._pending.clear()

    async def wire_error(self, code: str, message: str) -> None:
        if not self.call_sid:
            self._pending.append((code, message))
            return
        self.recorded += 1
        await self._add(CallEvent(call_sid=self.call_sid, kind="wire_error", code=code,
                                  detail={"message": message[:200]}))

    async def breach(self, code: str, message: str) -> None:
        if not self.call_sid:
            return
        await self._add(CallEvent(call_sid=self.call_sid, kind="error", code=code,
                                  detail={"message": message[:200]}))
        try:
            await self._store.update_call(self.call_sid, error_code=code)
        except Exception as exc:
            log.warning("call %s: could not record %s: %s", self.call_sid[:10], code, exc)

    async def totals(self, wire_errors: int) -> None:
        """At the end: the call's counter, and one event for the errors not recorded."""
        if not self.call_sid or not wire_errors:
            return
        try:
            await self._store.increment(self.call_sid, "wire_errors", wire_errors)
        except Exception as exc:
            log.warning("call %s: could not count wire errors: %s", self.call_sid[:10], exc)
        if wire_errors > self.recorded:
            await self._add(CallEvent(call_sid=self.call_sid, kind="wire_error",
                                      code="not_recorded",
                                      detail={"count": wire_errors - self.recorded}))
