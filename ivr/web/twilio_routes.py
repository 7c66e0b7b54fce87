"""Twilio voice and status webhooks (form POSTs, signature-checked)."""

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

log = logging.getLogger(__name__)

TWIML = "application/xml"
_UNREACHED = {"busy": CallOutcome.NO_ANSWER, "no-answer": CallOutcome.NO_ANSWER,
              "failed": CallOutcome.NO_ANSWER, "canceled": CallOutcome.NO_ANSWER}


def _language(value: str | None, default: Language) -> Language:
    try:
        return Language(value) if value else default
    except ValueError:
        return default


async def voice(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await request.post()
    fields = {k: str(v) for k, v in form.items()}
    check_webhook(services, request, form)  # type: ignore[arg-type]
    call_sid = fields.get("CallSid", "")
    if not call_sid.startswith("CA"):
        raise web.HTTPBadRequest(text="CallSid missing or malformed\n")
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
    lang = _language(request.query.get("lang"), default)
    direction = Direction.OUTBOUND if fields.get("Direction", "").startswith("outbound") \
        else Direction.INBOUND
    record = CallRecord(
        call_sid=call_sid,
        provider="twilio",
        direction=direction,
        from_masked=mask_phone(fields.get("From", "")) or None,
        to_masked=mask_phone(fields.get("To", "")) or None,
        language=lang,
        customer_id=customer_id,
        status=fields.get("CallStatus") or None,
        started_at=datetime.now(UTC),
        worker=services.config.worker_id,
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
    await services.store.create_call(record)
    params = {"lang": lang.value, "direction": direction.value}
    if customer_id:
        params["customer_id"] = customer_id
    if profile is not None:
        params["customer_name"] = str(profile.get("name") or "")
        params["customer_title"] = str(profile.get("title") or "")
    for key in ("customer_name", "customer_title", "campaign_id", "campaign_reward"):
        if request.query.get(key):
            params[key] = request.query[key]
    base = services.config.server.public_url.rstrip("/")
    ws_url = ("wss" if base.startswith("https") else "ws") + base[base.index(":"):]
    twiml = twilio_twiml.connect_stream(f"{ws_url}/twilio/media", params)
    return web.Response(text=twiml, content_type=TWIML)


async def status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await request.post()
    fields = {k: str(v) for k, v in form.items()}
    check_webhook(services, request, form)  # type: ignore[arg-type]
    call_sid = fields.get("CallSid", "")
    if not call_sid.startswith("CA"):
        raise web.HTTPBadRequest(text="CallSid missing or malformed\n")
    call_status = fields.get("CallStatus", "")
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
