"""Shared pieces of the campaign tests: a fake clock, an in-memory call control, customers,
and a campaign context over a temporary SQLite file.

Import as ``tests.campaigns.helpers`` (the repository root is on ``sys.path``).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ivr.campaigns.context import CampaignContext, CampaignControl, DialerSettings
from ivr.campaigns.mailer import Mailer
from ivr.campaigns.policy import Policy
from ivr.campaigns.service import CampaignService
from ivr.core.types import Language
from ivr.customers.model import ApplicationStatus, Channel, Customer
from ivr.store.campaigns import SqliteCampaignStore
from ivr.store.customers import SqliteCustomerStore
from ivr.store.sqlite import SqliteCallStore
from ivr.telephony.base import ProviderHttpError, TransferTarget
from ivr.telephony.provider import OutboundCall

# Monday 2024-06-10 19:00 in Shanghai (11:00 UTC): inside the default evening window.
MONDAY_EVENING_SH = datetime(2024, 6, 10, 11, 0, tzinfo=UTC)
PUBLIC = "https://ivr.example.com"
CALLER_ID = "+8675500000000"


class FakeClock:
    def __init__(self, start: datetime = MONDAY_EVENING_SH) -> None:
        self.now = start
        self.mono = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        delta = timedelta(**kw)
        self.now += delta
        self.mono += delta.total_seconds()

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds=seconds)


@dataclass
class FakeControl:
    """``CampaignControl`` in memory: records requests; ``fail`` queues errors for originate."""

    placed: list[dict[str, Any]] = field(default_factory=list)
    sms: list[tuple[str, str, str]] = field(default_factory=list)
    hangups: list[str] = field(default_factory=list)
    fail: list[BaseException] = field(default_factory=list)

    async def transfer(self, call_sid: str, target: TransferTarget) -> None:
        return None

    async def hangup(self, call_sid: str) -> None:
        self.hangups.append(call_sid)

    async def originate(self, call: OutboundCall) -> str:
        if self.fail:
            raise self.fail.pop(0)
        sid = f"CA{len(self.placed) + 1:032d}"
        self.placed.append({"to": call.to, "from": call.from_, "params": dict(call.params),
                            "amd": call.machine_detection, "sid": sid})
        return sid

    async def send_sms(self, to: str, from_: str, body: str) -> str:
        self.sms.append((to, from_, body))
        return f"SM{len(self.sms):032d}"


def http_error(status: int, code: int | None = None) -> ProviderHttpError:
    return ProviderHttpError(f"HTTP {status}", http_status=status, provider_code=code)


def customer(cid: str, **kw: Any) -> Customer:
    values: dict[str, Any] = {
        "customer_id": cid, "name": "张伟",
        "phone": "+86138" + f"{zlib.crc32(cid.encode()) % 10**8:08d}",
        "title": "张先生", "language": Language.ZH, "timezone": "Asia/Shanghai",
        "application_status": ApplicationStatus.PRE_REVIEW_PASSED,
        "pre_review_passed_at": MONDAY_EVENING_SH - timedelta(days=8),
        "preferred_channel": Channel.SMS,
    }
    values.update(kw)
    return Customer(**values)


def fast_policy(**kw: Any) -> Policy:
    """Every day, all day; quick retries."""
    raw: dict[str, Any] = {"windows": "00:00-24:00", "weekend_windows": "00:00-24:00",
                           "retry_backoff_s": 600.0, "calls_per_second": 5.0,
                           "max_concurrent": 5}
    raw.update(kw)
    return Policy().updated(raw)


@dataclass
class Harness:
    ctx: CampaignContext
    service: CampaignService
    clock: FakeClock
    control: CampaignControl
    customers: SqliteCustomerStore
    calls: SqliteCallStore
    store: SqliteCampaignStore


@asynccontextmanager
async def harness(tmp: Path, control: CampaignControl | None = None, *,
                  mailer: Mailer | None = None,
                  clock: FakeClock | None = None, db: Path | None = None
                  ) -> AsyncIterator[Harness]:
    path = db or tmp / "ivr.sqlite3"
    clock = clock or FakeClock()
    control = control or FakeControl()
    async with (await SqliteCampaignStore.open(path) as store,
                await SqliteCustomerStore.open(path) as customers,
                await SqliteCallStore.open(path) as calls):
        ctx = CampaignContext(store=store, customers=customers, control=control,
                              settings=DialerSettings(caller_id=CALLER_ID),
                              calls=calls, mailer=mailer, clock=clock,
                              monotonic=clock.monotonic, sleep=clock.sleep)
        yield Harness(ctx, CampaignService(ctx), clock, control, customers, calls, store)
