"""Whether and as whom an arriving call is taken: readiness and capacity, the customer (from
the IVR's own dial parameters, else the caller's number), the language; the call's record."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ivr.call.model import CallContext
from ivr.call.prepare import PreparedCall
from ivr.core.pii import mask_phone
from ivr.core.types import CallOutcome, Language
from ivr.store.base import Store
from ivr.store.records import CallEvent, CallRecord, Direction
from ivr.telephony.provider import Admission, CallDirection, CallIdentity

log = logging.getLogger(__name__)

# Dial parameters the IVR attaches to outbound calls (or a test phone to inbound ones) that
# the dialogue may see.
PASSED_ON = ("customer_name", "customer_title", "campaign_id", "campaign_reward")


class Readiness(Protocol):
    def ready(self) -> tuple[bool, str]: ...


class Customers(Protocol):
    async def customer_id_for_phone(self, phone: str) -> str | None: ...

    async def profile(self, customer_id: str) -> dict[str, Any] | None: ...


@dataclass
class AdmittedCall:
    call: CallContext
    admission: Admission
    token: str = ""
    prepared: PreparedCall | None = None
    at: float = field(default_factory=lambda: asyncio.get_running_loop().time())


def _language(value: str | None, default: Language) -> Language:
    try:
        return Language(value) if value else default
    except ValueError:
        return default


@dataclass
class Admitter:
    store: Store
    readiness: Readiness
    customers: Customers | None
    default_language: Language
    max_calls: int
    public_url: str

    async def admit(self, identity: CallIdentity, active: int) -> AdmittedCall:
        params = identity.params
        customer_id = params.get("customer_id") or None
        profile = None
        if self.customers is not None:
            if customer_id is None and identity.from_number:
                customer_id = await self.customers.customer_id_for_phone(identity.from_number)
            if customer_id is not None:
                profile = await self.customers.profile(customer_id)
        default = self.default_language
        if profile is not None:
            default = _language(str(profile.get("language") or ""), default)
        lang = _language(params.get("lang"), default)
        outbound = identity.direction is CallDirection.OUTBOUND
        record = CallRecord(
            call_sid=identity.call_id, provider=identity.provider,
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            from_masked=mask_phone(identity.from_number) or None,
            to_masked=mask_phone(identity.to_number) or None, language=lang,
            customer_id=customer_id, started_at=datetime.now(UTC),
        )
        metadata = {k: params[k] for k in PASSED_ON if params.get(k)}
        if profile is not None:
            metadata.setdefault("customer_name", str(profile.get("name") or ""))
            metadata.setdefault("customer_title", str(profile.get("title") or ""))
        call = CallContext(identity.call_id, lang, customer_id, outbound, metadata)
        ready, reason = self.readiness.ready()
        if ready and active >= self.max_calls:
            ready, reason = False, "capacity"
        if not ready:
            return AdmittedCall(call, await self._refuse(record, reason, lang))
        await self.store.create_call(record)
        params_out = {"lang": lang.value, "direction": "outbound" if outbound else "inbound"}
        return AdmittedCall(call, Admission(True, lang.value, params_out))

    async def _refuse(self, record: CallRecord, reason: str, lang: Language) -> Admission:
        log.warning("refusing call %s: %s", record.call_sid[:10], reason)
        record.outcome = CallOutcome.FAILED
        record.error_code = f"refused:{reason}"
        record.ended_at = datetime.now(UTC)
        await self.store.create_call(record)
        await self.store.add_event(CallEvent(call_sid=record.call_sid, kind="refused",
                                             code=reason, detail={}))
        audio = f"{self.public_url.rstrip('/')}/prompts/unavailable-{lang.value}.wav"
        return Admission(False, lang.value, refusal_reason=reason, refusal_audio_url=audio)
