"""Internal API routes for what the bot promises in a call (same loopback + secret rules as
``ivr.web.internal``):

* ``POST /internal/calls/{call_sid}/callback`` ``{"when": caller's words, "lang": "zh"|"en"}``
  -> 201 ``{"id", "due_at", "readback", "as_asked", "campaign_id"}``: a callback follow-up due
  at the time the caller chose (their zone, the calling windows) and the one-customer campaign
  that will dial it (``ivr.campaigns.callbacks``).
* ``POST /internal/calls/{call_sid}/offer`` -> 200 ``{"channel", "sent"}``: the accepted offer's
  details sent through the customer's channel (SMS or e-mail) and recorded with the call
  (details ``offer_message``, event ``offer_sent``); a send that fails is recorded too, with a
  follow-up for a human to send it (``sent`` false).
* ``POST /internal/calls/{call_sid}/opt-out`` -> 200 ``{"do_not_call": true, "at"}``: the
  customer withdrew consent in this call: the withdrawal is recorded (call event and details,
  with time and call) and the customer is put on the do-not-call list of every campaign.
"""

from __future__ import annotations

import logging

from aiohttp import web

from ivr.campaigns import callbacks, offers
from ivr.campaigns.admin import CampaignError
from ivr.campaigns.fallback import channel_for
from ivr.campaigns.mailer import MailError
from ivr.core.errors import ProviderApiError
from ivr.customers.model import FollowUpKind
from ivr.store.campaigns import ALL_CAMPAIGNS
from ivr.store.records import CallEvent
from ivr.web.internal import ApiError, _call_or_404, customers_of, internal, read_object
from ivr.web.services import Services

log = logging.getLogger(__name__)
MAX_WHEN = 200
LANGS = ("zh", "en")


@internal
async def book_callback(request: web.Request, services: Services) -> web.StreamResponse:
    body = await read_object(request, frozenset({"when", "lang"}))
    words, lang = body.get("when", ""), body.get("lang", "zh")
    if not isinstance(words, str) or len(words) > MAX_WHEN:
        raise ApiError(400, "invalid_field", f"when must be text of at most {MAX_WHEN} "
                       "characters")
    if lang not in LANGS:
        raise ApiError(400, "invalid_field", "lang must be zh or en")
    if services.campaigns is None:
        raise ApiError(503, "unavailable", "campaigns are not configured")
    customers = customers_of(services)
    call = await _call_or_404(services, request.match_info["call_sid"])
    ctx = services.campaigns.ctx
    try:
        booking = await callbacks.book(ctx, call.customer_id, words, lang)
    except ValueError as err:  # no calling window at all
        raise ApiError(409, "no_calling_window", str(err)) from None
    detail = f"callback requested: {words}" if words else "callback requested (no time given)"
    task = await customers.add_followup(FollowUpKind.CALLBACK, detail, call_sid=call.call_sid,
                                        customer_id=call.customer_id,
                                        due_at=booking.slot.due_at)
    campaign_id = None
    if call.customer_id and task.id is not None:
        try:
            campaign_id = (await callbacks.schedule(ctx, task.id, call.customer_id,
                                                    booking)).id
        except CampaignError as err:
            log.warning("call %s: callback follow-up %s not scheduled: %s", call.call_sid,
                        task.id, err)
    return web.json_response({"id": task.id, "due_at": booking.slot.due_at.isoformat(),
                              "readback": booking.readback, "as_asked": booking.slot.as_asked,
                              "campaign_id": campaign_id}, status=201)


@internal
async def opt_out(request: web.Request, services: Services) -> web.StreamResponse:
    await read_object(request, frozenset())
    if services.campaigns is None:
        raise ApiError(503, "unavailable", "campaigns are not configured")
    call = await _call_or_404(services, request.match_info["call_sid"])
    if not call.customer_id:
        raise ApiError(409, "no_customer", "the call has no known customer")
    ctx = services.campaigns.ctx
    now = ctx.now()
    await ctx.store.add_dnc(ALL_CAMPAIGNS, [call.customer_id],
                            f"consent withdrawn in call {call.call_sid}", now)
    withdrawal = {"at": now.isoformat(), "call_sid": call.call_sid}
    await services.store.update_call(call.call_sid, details={"consent_withdrawn": withdrawal})
    await services.store.add_event(CallEvent(call.call_sid, "consent_withdrawn", at=now,
                                             detail={"do_not_call": ALL_CAMPAIGNS}))
    log.info("call %s: customer %s withdrew consent; on the do-not-call list", call.call_sid,
             call.customer_id)
    return web.json_response({"do_not_call": True, "at": now.isoformat()})


@internal
async def send_offer(request: web.Request, services: Services) -> web.StreamResponse:
    await read_object(request, frozenset())
    if services.campaigns is None:
        raise ApiError(503, "unavailable", "campaigns are not configured")
    call = await _call_or_404(services, request.match_info["call_sid"])
    ctx = services.campaigns.ctx
    customer = await ctx.customers.get_customer(call.customer_id) if call.customer_id else None
    if customer is None:
        raise ApiError(409, "no_customer", "the call has no known customer")
    now = ctx.now().isoformat()
    try:
        sent = await offers.send_offer(customer, ctx.control, ctx.mailer,
                                       ctx.settings.caller_id)
    except (ProviderApiError, MailError) as err:
        log.warning("call %s: offer details not sent: %s", call.call_sid, err)
        failed = {"channel": channel_for(customer, ctx.mailer is not None).value,
                  "error": str(err)[:200], "at": now}
        await services.store.update_call(call.call_sid, details={"offer_message": failed})
        await customers_of(services).add_followup(
            FollowUpKind.OTHER, "send the accepted offer's details (sending failed)",
            call_sid=call.call_sid, customer_id=call.customer_id)
        return web.json_response({"channel": failed["channel"], "sent": False})
    record: dict[str, str | None] = {"channel": sent.channel, "ref": sent.ref, "at": now}
    await services.store.update_call(call.call_sid, details={"offer_message": record})
    await services.store.add_event(CallEvent(call.call_sid, "offer_sent", code=sent.channel,
                                             detail={"ref": sent.ref}))
    return web.json_response({"channel": sent.channel, "sent": sent.channel != "none"})


def setup(app: web.Application) -> None:
    app.router.add_post("/internal/calls/{call_sid}/callback", book_callback)
    app.router.add_post("/internal/calls/{call_sid}/opt-out", opt_out)
    app.router.add_post("/internal/calls/{call_sid}/offer", send_offer)
