"""The IVR's own ID check behind the identity seam (``ivr.call.identity``): the controller
collects the digits (spoken, keyed, ``*`` = X), this verifier compares them with the stored
keyed hash and answers with the outcome alone, ``/id_result{"result", "attempts_left"}``. The
digits go nowhere else: not to the dialogue, not to a log, not to an event.

Failures count per customer across calls in the store (``ivr.customers.identity.decide``). A
caller without a customer record cannot be verified: counted per call, in memory (bounded).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from ivr.call.identity import IdentityOutcome
from ivr.call.model import CallContext
from ivr.customers.identity import IdOutcome, IdPolicy, IdVerdict, decide, well_formed
from ivr.customers.idhash import IdHasher
from ivr.customers.model import IdLock
from ivr.metrics import Metrics
from ivr.store.base import Store
from ivr.store.customers import CustomerStore
from ivr.store.records import CallEvent

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
MAX_UNKNOWN_CALLS = 1000


def utc_now() -> datetime:
    return datetime.now(UTC)


class IdentityVerifier:
    def __init__(self, customers: CustomerStore, hasher: IdHasher, policy: IdPolicy, *,
                 calls: Store | None = None, metrics: Metrics | None = None,
                 clock: Clock = utc_now) -> None:
        self.customers = customers
        self.hasher = hasher
        self.policy = policy
        self.calls = calls
        self.metrics = metrics
        self.clock = clock
        self._no_record: OrderedDict[str, IdLock] = OrderedDict()

    async def verify(self, call: CallContext, digits: str,
                     confidence: float | None) -> IdentityOutcome:
        verdict = await self.check(call, digits, confidence)
        await self._record(call, verdict)
        verified = {IdOutcome.VERIFIED: True, IdOutcome.MISMATCH: False,
                    IdOutcome.LOCKED: False}.get(verdict.outcome)
        return IdentityOutcome(verdict.message(), verified)

    async def check(self, call: CallContext, given: str,
                    confidence: float | None) -> IdVerdict:
        given = given.strip().upper()
        unsure = confidence is not None and confidence < self.policy.min_confidence
        if unsure or not well_formed(given):
            return IdVerdict(IdOutcome.INCOMPLETE, await self._attempts_left(call))
        customer = None
        if call.customer_id is not None:
            customer = await self.customers.get_customer(call.customer_id)
        if customer is None:  # no record: nothing can match
            lock, verdict = decide(self._no_record.get(call.call_id, IdLock()), False,
                                   self.clock(), self.policy)
            self._no_record[call.call_id] = lock
            self._no_record.move_to_end(call.call_id)
            while len(self._no_record) > MAX_UNKNOWN_CALLS:
                self._no_record.popitem(last=False)
            return verdict
        ok = self.hasher.matches(customer.customer_id, given, customer.id_hash)
        return await self.customers.record_id_attempt(customer.customer_id, ok, self.clock(),
                                                      self.policy)

    async def _attempts_left(self, call: CallContext) -> int:
        lock = self._no_record.get(call.call_id, IdLock())
        if call.customer_id is not None:
            lock = await self.customers.id_lock(call.customer_id)
        return max(0, self.policy.max_failures - lock.failures)

    async def _record(self, call: CallContext, verdict: IdVerdict) -> None:
        """The outcome as call events an operator can see (never the digits)."""
        events = [CallEvent(call_sid=call.call_id, kind="id_check", code=verdict.outcome.value,
                            detail={"attempts_left": verdict.attempts_left})]
        if verdict.newly_locked:
            log.warning("ID check for customer %s locked for %.0f s after %d failures",
                        call.customer_id, self.policy.cooldown_s, self.policy.max_failures)
            if self.metrics is not None:
                self.metrics.id_lockouts += 1
            events.append(CallEvent(call_sid=call.call_id, kind="identity_locked",
                                    code="id_failures",
                                    detail={"customer_id": call.customer_id}))
        if self.calls is None:
            return
        for event in events:
            try:
                await self.calls.add_event(event)
            except Exception as exc:  # the check's answer matters more than its record
                log.warning("call %s: could not record %s: %s", call.call_id[:12], event.kind,
                            exc)
