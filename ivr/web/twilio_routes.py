"""Twilio voice and status webhooks (form POSTs, signature-checked, idempotent).

The voice webhook decides who the call is and hands the provider only a one-time stream ticket
(``ivr.web.stream_tickets``); a replay of a call that already streamed or ended is refused and
changes nothing. A status callback already seen (same ``CallSid`` + ``CallStatus`` +
``AnsweredBy``) changes nothing either."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ivr.core.pii import mask_phone
from ivr.core.types import CallOutcome, Language
from ivr.store.records import CallEvent, CallRecord, Direction
from ivr.telephony import twilio_twiml
from ivr.web.keys import SERVICES
from ivr.web.security import check_webhook
from ivr.web.services import Services
from ivr.web.stream_tickets import TOKEN_PARAMETER, CallContext

log = logging.getLogger(__name__)

TWIML = "application/xml"
_UNREACHED = {"busy": CallOutcome.NO_ANSWER, "no-answer": CallOutcome.NO_ANSWER,
              "failed": CallOutcome.NO_ANSWER, "canceled": CallOutcome.NO_ANSWER}


def _language(value: str | None, default: Language) -> Language:
    try:
        return Language(value) if value else default
    except ValueError:
        return default


def _answered_before(record: CallRecord | None) -> bool:
    """The voice webhook already ran for this call (it is the one that sets the direction)."""
    return record is not None and record.direction is not None


def _stream_used(services: Services, record: CallRecord) -> bool:
    return bool(record.stream_sid or record.ended_at or record.outcome
                or record.call_sid in services.active)


async def _context(services: Services, request: web.Request, fields: dict[str, str],
                   call_sid: str) -> CallContext:
    """Who the call is for, from the signed request and the customer records."""
    customer_id = request.query.get("customer_id") or None
    profile = None
    if services.customers is not None:
        if customer_id is None and fields.get("From"):
            customer_id = await services.customers.customer_id_for_phone(fields["From"])
        if customer_id is not None:
            profile = await services.customers.profile(customer_id)
    default = services.config.call.default_language
    if profile is not None:
        default = _language(str(profile.get("language") or ""), default)
    metadata: dict[str, str] = {}
    if profile is not None:
        metadata["customer_name"] = str(profile.get("name") or "")
        metadata["customer_title"] = str(profile.get("title") or "")
    for key in ("customer_name", "customer_title", "campaign_id", "campaign_reward"):
        if request.query.get(key):
            metadata[key] = request.query[key]
    return CallContext(call_sid, _language(request.query.get("lang"), default), customer_id,
                       outbound=fields.get("Direction", "").startswith("outbound"),
                       metadata=metadata)


async def voice(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await request.post()
    fields = {k: str(v) for k, v in form.items()}
    check_webhook(services, request, form)  # type: ignore[arg-type]
    call_sid = fields.get("CallSid", "")
    if not call_sid.startswith("CA"):
        raise web.HTTPBadRequest(text="CallSid missing or malformed\n")
    existing = await services.store.get_call(call_sid)
    if _answered_before(existing):
        assert existing is not None
        if _stream_used(services, existing):
            # A replay of a call that already streamed or ended: nothing changes.
            log.warning("voice webhook replayed for call %s: refused", call_sid[:10])
            return web.Response(text=twilio_twiml.refuse(), content_type=TWIML)
    context = await _context(services, request, fields, call_sid)
    lang = context.language
    direction = Direction.OUTBOUND if context.outbound else Direction.INBOUND
    record = CallRecord(
        call_sid=call_sid,
        provider="twilio",
        direction=direction,
        from_masked=mask_phone(fields.get("From", "")) or None,
        to_masked=mask_phone(fields.get("To", "")) or None,
        language=lang,
        customer_id=context.customer_id,
        status=fields.get("CallStatus") or None,
        started_at=datetime.now(UTC),
    )
    ready, reason = services.readiness.ready()
    if ready and len(services.active) >= services.config.server.max_calls:
        ready, reason = False, "capacity"
    if not ready:
        services.metrics.calls_refused += 1
        log.warning("refusing call %s: %s", call_sid[:10], reason)
        record.outcome = CallOutcome.FAILED
        record.error_code = f"refused:{reason}"
        record.ended_at = datetime.now(UTC)
        await services.store.create_call(record)
        await services.store.add_event(
            CallEvent(call_sid=call_sid, kind="refused", code=reason, detail={})
        )
        play = f"{services.config.server.public_url.rstrip('/')}/prompts/unavailable-{lang}.wav"
        return web.Response(text=twilio_twiml.refuse(play), content_type=TWIML)
    if existing is None or not _answered_before(existing):
        await services.store.create_call(record)
    # Only the one-time ticket goes to the provider; who the call is stays here.
    token = services.tickets.issue(context)
    base = services.config.server.public_url.rstrip("/")
    ws_url = ("wss" if base.startswith("https") else "ws") + base[base.index(":"):]
    twiml = twilio_twiml.connect_stream(f"{ws_url}/twilio/media", {TOKEN_PARAMETER: token})
    return web.Response(text=twiml, content_type=TWIML)


def _status_key(fields: dict[str, str]) -> tuple[str, str]:
    return fields.get("CallStatus", ""), fields.get("AnsweredBy", "")


async def _seen_status(services: Services, call_sid: str, key: tuple[str, str]) -> bool:
    for event in await services.store.get_events(call_sid):
        if event.kind == "status_callback" and (
                event.code or "", str(event.detail.get("AnsweredBy", ""))) == key:
            return True
    return False


async def status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await request.post()
    fields = {k: str(v) for k, v in form.items()}
    check_webhook(services, request, form)  # type: ignore[arg-type]
    call_sid = fields.get("CallSid", "")
    if not call_sid.startswith("CA"):
        raise web.HTTPBadRequest(text="CallSid missing or malformed\n")
    call_status = fields.get("CallStatus", "")
    if await _seen_status(services, call_sid, _status_key(fields)):
        log.info("status callback %s for call %s seen before: ignored", call_status,
                 call_sid[:10])
        return web.Response(status=204)
    await services.store.create_call(
        CallRecord(call_sid=call_sid, provider="twilio", status=call_status or None)
    )
    detail: dict[str, Any] = {k: fields[k] for k in ("CallStatus", "CallDuration", "SequenceNumber",
                                     "AnsweredBy") if k in fields}
    await services.store.add_event(
        CallEvent(call_sid=call_sid, kind="status_callback", code=call_status, detail=detail)
    )
    existing = await services.store.get_call(call_sid)
    if call_status in _UNREACHED and existing is not None and existing.outcome is None:
        await services.store.update_call(
            call_sid, outcome=_UNREACHED[call_status], ended_at=datetime.now(UTC)
        )
    elif call_status == "in-progress" and existing is not None and existing.answered_at is None:
        await services.store.update_call(call_sid, answered_at=datetime.now(UTC))
    if services.campaigns is not None:
        await services.campaigns.on_call_status(call_sid, call_status,
                                                fields.get("AnsweredBy") or None,
                                                request.query.get("attempt_id"))
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    app.router.add_post("/twilio/voice", voice)
    app.router.add_post("/twilio/status", status)
