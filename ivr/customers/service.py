"""What the routes and the CLI do with customers: masked profiles, ID checks, follow-ups.

Time comes from an injectable ``clock`` so tests decide what "the last 7 days" means.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ivr.customers.model import DEFAULT_DUE_HOURS, FollowUp, FollowUpKind
from ivr.customers.validate import is_e164, normalize_phone
from ivr.customers.views import JsonDict, customer_profile
from ivr.store.customers import CustomerStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_DUE_HOURS = 24 * 30
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class IdCheck:
    """``attempts``/``locked`` are only known when the check was made for a call."""

    ok: bool
    attempts: int | None = None
    locked: bool = False


def normalize_last4(value: str) -> str:
    return "".join(value.translate(_FULLWIDTH).split()).upper()


class CustomerService:
    """Customer logic over a :class:`CustomerStore` (``store`` stays public for listing)."""

    def __init__(self, store: CustomerStore, clock: Clock = utc_now,
                 max_id_failures: int = 3) -> None:
        self.store = store
        self.clock = clock
        # Failed checks on one call after which every further check fails unseen.
        self.max_id_failures = max_id_failures

    async def profile(self, customer_id: str) -> JsonDict | None:
        customer = await self.store.get_customer(customer_id)
        return None if customer is None else customer_profile(customer, self.clock())

    async def customer_id_for_phone(self, phone: str) -> str | None:
        """The customer an inbound caller number belongs to; None if unknown or ambiguous."""
        number = normalize_phone(phone)
        if not is_e164(number):
            return None
        matches = await self.store.find_by_phone(number)
        if len(matches) > 1:
            log.warning("caller number matches %d customers; not identified", len(matches))
        return matches[0].customer_id if len(matches) == 1 else None

    async def verify_id(self, customer_id: str, last4: str,
                        call_sid: str | None = None) -> IdCheck | None:
        """Compare ``last4`` with the stored ID digits in constant time; None: no customer."""
        customer = await self.store.get_customer(customer_id)
        if customer is None:
            return None
        given = normalize_last4(last4).encode()
        stored = (customer.id_last4 or "").upper().encode()
        ok = bool(stored) and hmac.compare_digest(given, stored)
        if call_sid is None:
            return IdCheck(ok)
        before = await self.store.id_checks(call_sid, customer_id)
        locked = before.failures >= self.max_id_failures
        counted = await self.store.record_id_check(call_sid, customer_id, ok and not locked)
        log.info("ID check for customer %s on call %s: %s (attempt %d)", customer_id,
                 call_sid, "locked" if locked else "ok" if ok else "failed", counted.attempts)
        return IdCheck(ok and not locked, counted.attempts, locked)

    async def add_followup(self, kind: FollowUpKind, detail: str, *, call_sid: str | None,
                           customer_id: str | None,
                           due_in_hours: float | None = None,
                           due_at: datetime | None = None) -> FollowUp:
        """Due ``due_at``, else in ``due_in_hours``, else the kind's default."""
        hours = DEFAULT_DUE_HOURS[kind] if due_in_hours is None else due_in_hours
        if due_at is None and not 0 <= hours <= MAX_DUE_HOURS:
            raise ValueError(f"due_in_hours must be 0..{MAX_DUE_HOURS}")
        now = self.clock()
        task = await self.store.add_followup(FollowUp(
            kind=kind, call_sid=call_sid, customer_id=customer_id, detail=detail,
            due_at=due_at or now + timedelta(hours=hours), created_at=now,
        ))
        log.info("follow-up %s (%s) created for call %s", task.id, kind.value, call_sid)
        return task
