"""What every part of the campaign service shares: stores, call control, clock, settings."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ivr.campaigns.mailer import Mailer
from ivr.campaigns.pacing import Sleep
from ivr.campaigns.policy import Policy
from ivr.core.errors import ProviderApiError
from ivr.store.base import CallStore
from ivr.store.customers import CustomerStore
from ivr.store.protocols import CampaignStore
from ivr.telephony.provider import CallControl, Messaging

Clock = Callable[[], datetime]


class CampaignControl(CallControl, Messaging, Protocol):
    """Dialling, hanging up voicemail, and survey texts, through the selected provider."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_attempt_id() -> str:
    return "AT" + uuid.uuid4().hex


@dataclass(frozen=True)
class DialerSettings:
    caller_id: str  # From number for calls and SMS
    poll_s: float = 1.0
    stale_after_s: float = 7200.0
    line_grace_s: float = 120.0
    rules_every_s: float = 300.0
    worker: str = ""  # this worker's name: its dials and leases carry it
    lease_s: float = 30.0  # a claimed target goes back to the queue after this, undialled


@dataclass
class CampaignContext:
    store: CampaignStore
    customers: CustomerStore
    control: CampaignControl
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


class NoDialing:
    """No provider can dial (the CLI, or a server without provider credentials)."""

    async def transfer(self, call_sid: str, target: object) -> None:
        raise ProviderApiError("no provider can control calls")

    async def hangup(self, call_sid: str) -> None:
        raise ProviderApiError("no provider can control calls")

    async def originate(self, call: object) -> str:
        raise ProviderApiError("no provider can dial")

    async def send_sms(self, to: str, from_: str, body: str) -> str:
        raise ProviderApiError("no provider can send messages")
