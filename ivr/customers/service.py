"""What the routes and the CLI do with customers: masked profiles, follow-ups, hashing of
stored ID digits (the ID check itself is ``ivr.customers.verifier``).

Time comes from an injectable ``clock`` so tests decide what "the last 7 days" means.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ivr.customers.idhash import IdHasher, normalize_last4
from ivr.customers.model import DEFAULT_DUE_HOURS, FollowUp, FollowUpKind
from ivr.customers.validate import is_e164, normalize_phone
from ivr.customers.views import JsonDict, customer_profile
from ivr.store.customers import CustomerStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_DUE_HOURS = 24 * 30


def utc_now() -> datetime:
    return datetime.now(UTC)


class CustomerService:
    """Customer logic over a :class:`CustomerStore` (``store`` stays public for listing)."""

    def __init__(self, store: CustomerStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

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

    async def protect_ids(self, hasher: IdHasher) -> int:
        """Replace plain ID digits left by an older version with their keyed hash; how many."""
        plain = await self.store.plain_ids()
        if plain:
            await self.store.set_id_hashes([
                (cid, hasher.hash(cid, digits), normalize_last4(digits).endswith("X"))
                for cid, digits in plain])
            log.info("hashed the stored ID digits of %d customers", len(plain))
        return len(plain)

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
