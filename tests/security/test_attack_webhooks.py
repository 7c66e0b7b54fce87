"""Attacks on the provider webhooks (issue 9): replays change nothing, malformed bodies are 4xx,
the TwiML carries no customer data, only a one-time stream ticket."""

from __future__ import annotations

import aiohttp
import pytest

from ivr.store.records import CallRecord
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, sign
from tests.security.harness import AUTH_TOKEN, Harness
from tests.security.rawhttp import raw_request
from tests.security.twilio_client import (
    new_sid,
    post_signed,
    started_call,
    stream_parameters,
    voice,
)


async def test_replayed_status_callback_changes_nothing(h: Harness) -> None:
    sid = new_sid()
    calls: list[tuple[str, str]] = []

    class Campaigns:
        async def on_call_status(self, call_id: str, progress: object, answered_by: object,
                                 attempt_id: str | None) -> None:
            calls.append((call_id, str(progress)))

        async def on_call_finished(self, call_id: str, outcome: str) -> None:
            pass

    h.hub.campaigns = Campaigns()
    form = {"CallSid": sid, "CallStatus": "no-answer", "AccountSid": "AC" + "0" * 32}
    for _ in range(3):
        assert (await post_signed(h, "/twilio/status", form)).status == 204
    events = [e for e in await h.calls.get_events(sid) if e.kind == "status_callback"]
    assert len(events) == 1
    assert calls == [(sid, "no_answer")]
    record = await h.calls.get_call(sid)
    assert record is not None
    ended = record.ended_at
    assert (await post_signed(h, "/twilio/status", form)).status == 204
    again = await h.calls.get_call(sid)
    assert again is not None and again.ended_at == ended
    # A different status of the same call is new information.
    form["CallStatus"] = "completed"
    assert (await post_signed(h, "/twilio/status", form)).status == 204
    assert len([e for e in await h.calls.get_events(sid) if e.kind == "status_callback"]) == 2


async def test_replayed_voice_webhook_after_the_stream_changes_nothing(h: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        sid, _stream_sid, ws = await started_call(h, session, query={"customer_id": "c-1"})
        before = await h.calls.get_call(sid)
        twiml = await voice(h, sid, {"customer_id": "c-2", "lang": "en"}, From="+15550001111")
        assert "<Stream" not in twiml and "<Hangup" in twiml
        after = await h.calls.get_call(sid)
        assert after == before
        assert sid not in h.hub._admitted  # no new ticket for the replay
        await ws.close()


async def test_voice_retry_before_the_stream_issues_a_fresh_ticket(h: Harness) -> None:
    sid = new_sid()
    first = stream_parameters(await voice(h, sid))["call_token"]
    before = await h.calls.get_call(sid)
    second = stream_parameters(await voice(h, sid))["call_token"]
    assert first != second
    assert await h.calls.get_call(sid) == before


async def test_twiml_carries_only_the_ticket(h: Harness) -> None:
    """The <Stream> parameters used to carry customer id, name and campaign (and were trusted)."""
    twiml = await voice(h, new_sid(), {"customer_id": "c-001", "customer_name": "张伟",
                                       "campaign_id": "camp1", "lang": "en"})
    params = stream_parameters(twiml)
    assert set(params) <= {"call_token", "lang", "direction"}
    assert len(params["call_token"]) >= 24
    for secret in ("c-001", "张伟", "camp1"):
        assert secret not in twiml


@pytest.mark.parametrize(("body", "ctype", "expected"), [
    (b"CallSid=CA1&From=%FF%FE", "application/x-www-form-urlencoded", 403),  # %-encoded bad UTF-8
    (b"CallSid=CA\xff\xfe", "application/x-www-form-urlencoded", 400),
    (b"CallSid=CA1", "application/x-www-form-urlencoded; charset=x-unknown-1", 415),
    (b"CallSid=CA1", "application/x-www-form-urlencoded; charset=utf-16", 415),
    (b'--b\r\nContent-Disposition: form-data; name="CallSid"\r\n\r\nCA1\r\n--b--\r\n',
     "multipart/form-data; boundary=b", 415),
    (b"CallSid=CA1", "text/plain", 415),
    (b'{"CallSid": "CA1"}', "application/json", 415),
])
@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/status"])
async def test_malformed_webhook_bodies_are_4xx(h: Harness, path: str, body: bytes,
                                                ctype: str, expected: int) -> None:
    status, text = await raw_request(
        h.port, f"POST {path} HTTP/1.1\r\nHost: ivr.example.com\r\nContent-Type: {ctype}\r\n"
                f"{SIGNATURE_HEADER}: {sign('https://ivr.example.com' + path, {}, AUTH_TOKEN)}",
        body)
    assert status == expected, text
    assert await h.calls.get_call("CA1") is None


async def test_unsigned_or_missigned_webhooks_store_nothing(h: Harness) -> None:
    sid = new_sid()
    form = {"CallSid": sid, "CallStatus": "ringing"}
    resp = await h.client.post("/twilio/voice", data=form)
    assert resp.status == 403
    signature = sign("https://ivr.example.com/twilio/voice?customer_id=x", form, AUTH_TOKEN)
    resp = await h.client.post("/twilio/voice", data=form,
                               headers={SIGNATURE_HEADER: signature})
    assert resp.status == 403
    assert await h.calls.get_call(sid) is None


async def test_status_callback_cannot_reset_a_finished_call(h: Harness) -> None:
    sid = new_sid()
    await h.calls.create_call(CallRecord(call_sid=sid, status="completed"))
    form = {"CallSid": sid, "CallStatus": "ringing"}
    assert (await post_signed(h, "/twilio/status", form)).status == 204
    record = await h.calls.get_call(sid)
    assert record is not None and record.status == "completed"
