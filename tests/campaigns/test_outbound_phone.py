"""The phone simulator answering an outbound call: the signed voice webhook it posts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from ivr.core.types import Language
from ivr.sim.outbound import OutboundPhone
from ivr.sim.phone import SimOptions
from ivr.sim.script import CallScript
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, TwilioSignatureValidator

TOKEN = "outbound-test-token"
REFUSE = "<?xml version='1.0'?><Response><Hangup/></Response>"


@pytest.fixture
async def voice() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    holder: list[TwilioSignatureValidator] = []

    async def handler(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        holder[0].validate_webhook(request.raw_path, form, request.headers[SIGNATURE_HEADER])
        seen.append({**form, **{f"q:{k}": v for k, v in request.query.items()}})
        return web.Response(text=REFUSE, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/twilio/voice", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    holder.append(TwilioSignatureValidator(TOKEN, url))
    yield url, seen
    await runner.cleanup()


async def test_answer_posts_the_signed_outbound_webhook(
        voice: tuple[str, list[dict[str, str]]]) -> None:
    url, seen = voice
    phone = OutboundPhone(SimOptions(base_url=url, auth_token=TOKEN))
    answer_url = f"{url}/twilio/voice?customer_id=c1&campaign_id=k&attempt_id=AT1"
    script = CallScript(name="t", lang=Language.ZH, turns=())
    result = await phone.answer(answer_url, "CA" + "1" * 32, script, to="+8613800000000",
                                from_="+8610900000000")
    assert result.refused and result.call_sid == "CA" + "1" * 32
    (form,) = seen
    assert form["Direction"] == "outbound-api" and form["CallStatus"] == "in-progress"
    assert (form["To"], form["From"]) == ("+8613800000000", "+8610900000000")
    assert (form["q:customer_id"], form["q:campaign_id"], form["q:attempt_id"]) == (
        "c1", "k", "AT1")
    # Inbound calls are unchanged: the inbound webhook path has no campaign parameters.
    inbound = await phone.run(script, lambda live: _noop(), record=False)
    assert inbound.refused and seen[-1]["Direction"] == "inbound"


async def _noop() -> None:
    return None
