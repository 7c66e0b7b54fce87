"""The IVR side of every provider adapter (``CallSink``): admits arriving calls (readiness,
capacity, customer, language), binds each media stream to the call it was admitted as, runs
one driver per call, records provider status reports, and tells campaigns how calls ended.

Security (issue 9): a stream is bound to its call's signed arrival by a one-time, short-lived
token; one live stream per call; ``max_calls`` holds where streams start; every stream runs
within per-call bounds (``ivr.call.limits``); a replayed arrival of a call that already streamed
or ended, and a replayed status report, change nothing."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ivr.call.admission import AdmittedCall, Admitter
from ivr.call.driver import CallDriver
from ivr.call.factory import DriverFactory
from ivr.call.limits import BoundedChannel, MediaLimits
from ivr.call.model import CallContext
from ivr.call.prepare import PreparedCall, PreparedDialogue, PreparedSpeech
from ivr.core.errors import WireError
from ivr.core.types import CallOutcome
from ivr.metrics import Metrics
from ivr.store.base import Store
from ivr.store.records import CallEvent, CallRecord
from ivr.telephony.provider import (
    Admission,
    AnsweredBy,
    CallIdentity,
    CallProgress,
    CallStatusUpdate,
    MediaChannel,
    MediaStart,
)

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
ADMISSION_TTL_S = 60.0
TOKEN_PARAM = "call_token"
_UNREACHED = {CallProgress.BUSY, CallProgress.NO_ANSWER, CallProgress.FAILED,
              CallProgress.CANCELED}


class CampaignEvents(Protocol):
    async def on_call_status(self, call_id: str, progress: CallProgress | None,
                             answered_by: AnsweredBy | None, attempt_id: str | None) -> None: ...

    async def on_call_finished(self, call_id: str, outcome: str) -> None: ...


@dataclass
class CallHub:
    admitter: Admitter
    store: Store
    metrics: Metrics
    new_driver: DriverFactory
    campaigns: CampaignEvents | None = None
    prepare: Callable[[CallContext], PreparedCall] | None = None
    limits: MediaLimits = field(default_factory=MediaLimits)
    start_timeout_s: float = START_TIMEOUT_S
    ticket_ttl_s: float = ADMISSION_TTL_S
    active: dict[str, CallDriver] = field(default_factory=dict)
    _admitted: dict[str, AdmittedCall] = field(default_factory=dict)

    async def call_arrived(self, identity: CallIdentity) -> Admission:
        self._expire()
        if await self._replayed(identity.call_id):
            log.warning("call %s announced again after its stream: refused, nothing changed",
                        identity.call_id[:12])
            return Admission(False, "", refusal_reason="replay")
        admitted = await self.admitter.admit(identity, len(self.active))
        if not admitted.admission.accepted:
            self.metrics.calls_refused += 1
            return admitted.admission
        token = secrets.token_urlsafe(18)
        admitted.token = token
        admitted.admission = Admission(True, admitted.admission.language,
                                       {**admitted.admission.stream_params, TOKEN_PARAM: token})
        if self.prepare is not None:
            admitted.prepared = self.prepare(admitted.call)
        self._admitted[identity.call_id] = admitted
        return admitted.admission

    async def _replayed(self, call_id: str) -> bool:
        """The call already streamed (or ended): its arrival must not change anything."""
        if call_id in self.active:
            return True
        record = await self.store.get_call(call_id)
        return record is not None and record.direction is not None and bool(
            record.stream_sid or record.ended_at or record.outcome)

    def _expire(self) -> None:
        now = asyncio.get_running_loop().time()
        for call_id, admitted in list(self._admitted.items()):
            if now - admitted.at > self.ticket_ttl_s:
                del self._admitted[call_id]
                if admitted.prepared is not None:
                    admitted.prepared.cancel()

    async def _seen(self, update: CallStatusUpdate) -> bool:
        """This very report (status, answered-by) was recorded before: a replay."""
        answered = update.answered_by.value if update.answered_by is not None else None
        for event in await self.store.get_events(update.call_id):
            if event.kind == "status_callback" and (event.code or "") == update.raw_status \
                    and event.detail.get("answered_by") == answered:
                return True
        return False

    async def call_status(self, provider: str, update: CallStatusUpdate) -> None:
        if await self._seen(update):
            log.info("status %s of call %s seen before: ignored", update.raw_status,
                     update.call_id[:12])
            return
        await self.store.create_call(CallRecord(call_sid=update.call_id, provider=provider,
                                                status=update.raw_status or None))
        detail: dict[str, object] = {}
        if update.progress is not None:
            detail["progress"] = update.progress.value
        if update.answered_by is not None:
            detail["answered_by"] = update.answered_by.value
        if update.duration_s is not None:
            detail["duration_s"] = update.duration_s
        await self.store.add_event(CallEvent(call_sid=update.call_id, kind="status_callback",
                                             code=update.raw_status, detail=detail))
        existing = await self.store.get_call(update.call_id)
        if existing is not None:
            now = datetime.now(UTC)
            if update.progress in _UNREACHED and existing.outcome is None:
                await self.store.update_call(update.call_id, outcome=CallOutcome.NO_ANSWER,
                                             ended_at=now)
            elif update.progress is CallProgress.ANSWERED and existing.answered_at is None:
                await self.store.update_call(update.call_id, answered_at=now)
        if self.campaigns is not None:
            await self.campaigns.on_call_status(update.call_id, update.progress,
                                                update.answered_by, update.attempt_id)

    async def media_connected(self, channel: MediaChannel) -> None:
        channel = BoundedChannel(channel, self.limits, on_breach=self._breached)
        try:
            start = await asyncio.wait_for(channel.start(), self.start_timeout_s)
        except (WireError, TimeoutError) as exc:
            self.metrics.wire_errors += 1
            log.warning("%s media stream closed before a valid start: %s", channel.provider, exc)
            await channel.close()
            return
        admitted = self._bind(start)
        if admitted is None:
            self.metrics.wire_errors += 1
            self.metrics.streams_refused += 1
            await channel.close()
            return
        if len(self.active) >= self.admitter.max_calls:
            await self._refuse_stream(admitted, channel, "refused:capacity")
            return
        await self._run(admitted, channel, start)

    async def _refuse_stream(self, admitted: AdmittedCall, channel: MediaChannel,
                             code: str) -> None:
        """An admitted call whose stream cannot run now: the record says why."""
        self.metrics.calls_refused += 1
        log.warning("call %s: stream refused: %s", admitted.call.call_id[:12], code)
        if admitted.prepared is not None:
            admitted.prepared.cancel()
        call_id = admitted.call.call_id
        try:
            await self.store.add_event(CallEvent(call_sid=call_id, kind="refused", code=code))
            await self.store.update_call(call_id, outcome=CallOutcome.FAILED, error_code=code,
                                         ended_at=datetime.now(UTC))
        except Exception:
            log.exception("call %s: recording the refusal failed", call_id[:12])
        finally:
            await channel.close()

    def _breached(self, code: str) -> None:
        self.metrics.media_breaches += 1

    def _bind(self, start: MediaStart) -> AdmittedCall | None:
        """The call this stream belongs to: admitted, not yet streaming, token matching."""
        admitted = self._admitted.get(start.call_id)
        given = start.params.get(TOKEN_PARAM, "")
        if start.call_id in self.active:
            log.warning("second media stream for live call %s refused", start.call_id[:12])
            return None
        expired = admitted is not None and \
            asyncio.get_running_loop().time() - admitted.at > self.ticket_ttl_s
        if admitted is None or expired or not secrets.compare_digest(given, admitted.token):
            log.warning("media stream for unknown or unbound call %s refused", start.call_id[:12])
            return None
        del self._admitted[start.call_id]
        return admitted

    async def _run(self, admitted: AdmittedCall, channel: MediaChannel,
                   start: MediaStart) -> None:
        call = admitted.call
        prepared = admitted.prepared
        factory = self.new_driver
        if prepared is None:
            driver = factory(call, channel, start)
        else:
            driver = factory(call, channel, start,
                             dialogue=PreparedDialogue(factory.dialogue, prepared),
                             speech=PreparedSpeech(factory.speech, prepared))
        self.active[call.call_id] = driver
        self.metrics.calls_started += 1
        try:
            await driver.run()
        finally:
            self.active.pop(call.call_id, None)
            self.metrics.calls_ended += 1
            await self._report_to_campaign(call.call_id)

    async def _report_to_campaign(self, call_id: str) -> None:
        if self.campaigns is None:
            return
        try:
            record = await self.store.get_call(call_id)
            if record is not None and record.outcome is not None:
                await self.campaigns.on_call_finished(call_id, record.outcome.value)
        except Exception:
            log.exception("call %s: reporting to its campaign failed", call_id[:12])

    async def hang_up_all(self) -> None:
        """Graceful stop: end every live call (never blaming the caller) and wait."""
        drivers = list(self.active.values())
        for driver in drivers:
            driver.shutdown()
        for driver in drivers:
            await driver.wait_ended()
