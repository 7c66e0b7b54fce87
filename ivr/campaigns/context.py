"""What every part of the campaign service shares: stores, call control, clock, settings."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ivr.campaigns.mailer import Mailer
from ivr.campaigns.pacing import Sleep
from ivr.campaigns.policy import Policy
from ivr.store.base import CallStore
from ivr.store.customers import CustomerStore
from ivr.store.protocols import CampaignStore
from ivr.telephony.base import CallControl

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_attempt_id() -> str:
    return "AT" + uuid.uuid4().hex


@dataclass(frozen=True)
class DialerSettings:
    public_url: str  # where the provider reaches this server (webhooks)
    caller_id: str  # From number for calls and SMS
    poll_s: float = 1.0
    stale_after_s: float = 7200.0
    rules_every_s: float = 300.0
    worker: str = ""  # this worker's name: its dials and leases carry it
    lease_s: float = 30.0  # a claimed target goes back to the queue after this, undialled


@dataclass
class CampaignContext:
    store: CampaignStore
    customers: CustomerStore
    control: CallControl
    settings: DialerSettings
    calls: CallStore | None = None
    mailer: Mailer | None = None
    defaults: Policy = field(default_factory=Policy)
    clock: Clock = utc_now
    monotonic: Callable[[], float] = time.monotonic
    sleep: Sleep = asyncio.sleep
    new_id: Callable[[], str] = new_attempt_id
    # Free call slots on this worker (None: unlimited); the dialer claims no more targets.
    capacity: Callable[[], Awaitable[int]] | None = None

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)
