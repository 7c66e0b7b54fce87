"""The IVR's ID check: one shared verifier, one small per-call object the call engine asks.

``CallIdentity.check(message, text, source, confidence)`` answers None when the caller's turn
is no answer to the ID question (pass it to the dialogue as it is), else the verdict whose
``message()`` replaces the turn. The digits never leave this module: not to the dialogue, not to
the transcript (``MASKED``), not to a log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from ivr.customers.identity import (
    IdOutcome,
    IdPolicy,
    IdVerdict,
    decide,
    id_answer,
    well_formed,
)
from ivr.customers.idhash import IdHasher
from ivr.customers.model import IdLock
from ivr.store.customers import CustomerStore

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class IdentityVerifier:
    """Compares against the stored keyed hash; counts failures per customer in the store."""

    def __init__(self, store: CustomerStore, hasher: IdHasher, policy: IdPolicy,
                 clock: Clock = utc_now) -> None:
        self.store = store
        self.hasher = hasher
        self.policy = policy
        self.clock = clock

    async def verify(self, customer_id: str, given: str) -> IdVerdict | None:
        """None when the customer does not exist."""
        customer = await self.store.get_customer(customer_id)
        if customer is None:
            return None
        ok = self.hasher.matches(customer_id, given, customer.id_hash)
        verdict = await self.store.record_id_attempt(customer_id, ok, self.clock(), self.policy)
        if verdict.newly_locked:
            log.warning("ID check for customer %s locked for %.0f s after %d failures",
                        customer_id, self.policy.cooldown_s, self.policy.max_failures)
        return verdict


class CallIdentity:
    """The ID question on one call. A caller without a customer record is counted per call."""

    def __init__(self, verifier: IdentityVerifier, customer_id: str | None) -> None:
        self._verifier = verifier
        self._customer_id = customer_id
        self._no_record = IdLock()

    async def check(self, message: str, source: str,
                    confidence: float | None) -> IdVerdict | None:
        """``message``: what would go to the dialogue (recognized words or a keypad intent)."""
        given = id_answer(message, message)
        if given is None:
            return None
        policy = self._verifier.policy
        unsure = source == "speech" and confidence is not None and \
            confidence < policy.min_confidence
        if unsure or not well_formed(given):
            return IdVerdict(IdOutcome.INCOMPLETE, await self._attempts_left())
        verdict = None
        if self._customer_id is not None:
            verdict = await self._verifier.verify(self._customer_id, given)
        if verdict is None:  # no customer record: nothing can match
            self._no_record, verdict = decide(self._no_record, False, self._verifier.clock(),
                                              policy)
        return verdict

    async def _attempts_left(self) -> int:
        lock = self._no_record
        if self._customer_id is not None:
            lock = await self._verifier.store.id_lock(self._customer_id)
        return max(0, self._verifier.policy.max_failures - lock.failures)
