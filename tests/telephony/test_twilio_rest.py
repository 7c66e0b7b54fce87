"""The async Twilio REST client against the local fake Twilio over loopback."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from fake_twilio_rest import FakeTwilioRest

from ivr.core.errors import ProviderApiError
from ivr.telephony.base import ProviderHttpError, TransferKind, TransferTarget
from ivr.telephony.twilio.rest import TransferOptions, TwilioCredentials, TwilioRestClient

TO = "+15551234567"
FROM = "+15557654321"
API_KEY_SID = "SK" + "ab" * 16
API_KEY_SECRET = "api-key-secret-value"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioRest]:
    async with FakeTwilioRest(api_keys={API_KEY_SID: API_KEY_SECRET}) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def _client(
    fake: FakeTwilioRest,
    session: aiohttp.ClientSession,
    credentials: TwilioCredentials | None = None,
    *,
    timeout_s: float = 10.0,
    transfer_options: TransferOptions | None = None,
    amd_callback_url: str | None = None,
) -> TwilioRestClient:
    return TwilioRestClient(
        session,
        credentials or fake.credentials(),
        base_url=fake.base_url,
        timeout_s=timeout_s,
        transfer_options=transfer_options,
        amd_callback_url=amd_callback_url,
    )


async def test_place_call_posts_twilio_form_and_returns_sid(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    control = _client(fake, session)
    sid = await control.place_call(
        TO, FROM, "https://ivr.example.com/twilio/answer", "https://ivr.example.com/twilio/status"
    )
    assert sid.startswith("CA") and len(sid) == 34
    request = fake.requests[-1]
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake.account_sid}/Calls.json"
    assert request.auth_user == fake.account_sid
    form = request.form
    assert (form["To"], form["From"]) == (TO, FROM)
    assert form["Url"] == "https://ivr.example.com/twilio/answer"
    assert form["StatusCallback"] == "https://ivr.example.com/twilio/status"
    assert form.getall("StatusCallbackEvent") == ["initiated", "ringing", "answered", "completed"]
    assert "MachineDetection" not in form and "AsyncAmd" not in form
    assert fake.calls[sid].status == "queued"


async def test_place_call_with_machine_detection(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    client = _client(fake, session, amd_callback_url="https://ivr.example.com/twilio/amd")
    await client.place_call(
        TO, FROM, "https://h/answer", "https://h/status", machine_detection=True
    )
    form = fake.requests[-1].form
    assert form["MachineDetection"] == "DetectMessageEnd"
    assert form["AsyncAmd"] == "true"
    assert form["AsyncAmdStatusCallback"] == "https://ivr.example.com/twilio/amd"


async def test_amd_callback_defaults_to_status_callback(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    await _client(fake, session).place_call(TO, FROM, "https://h/a", "https://h/s", True)
    assert fake.requests[-1].form["AsyncAmdStatusCallback"] == "https://h/s"


async def test_transfer_updates_live_call_with_dial_twiml(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    call_sid = fake.add_call()
    options = TransferOptions(caller_id=FROM, timeout_s=20, action_url="https://h/dial-done")
    client = _client(fake, session, transfer_options=options)
    await client.transfer(call_sid, TransferTarget(TransferKind.SIP, "sip:agent7@pbx.example.com"))
    request = fake.requests[-1]
    assert request.path == f"/2010-04-01/Accounts/{fake.account_sid}/Calls/{call_sid}.json"
    assert fake.calls[call_sid].twiml == [
        '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="https://h/dial-done" '
        f'callerId="{FROM}" method="POST" timeout="20"><Sip>sip:agent7@pbx.example.com</Sip>'
        "</Dial></Response>"
    ]
    assert fake.calls[call_sid].status == "in-progress"


async def test_transfer_to_a_phone_logs_the_number_masked(
    fake: FakeTwilioRest, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    call_sid = fake.add_call()
    with caplog.at_level(logging.DEBUG):
        await _client(fake, session).transfer(call_sid, TransferTarget(TransferKind.PHONE, TO))
    assert "<Number>" + TO in fake.calls[call_sid].twiml[-1]  # Twilio still gets the number
    assert call_sid in caplog.text and "4567" in caplog.text
    assert TO not in caplog.text and TO[1:] not in caplog.text


async def test_hangup_sets_status_completed(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    call_sid = fake.add_call()
    await _client(fake, session).hangup(call_sid)
    assert fake.requests[-1].form["Status"] == "completed"
    assert fake.calls[call_sid].status == "completed"


async def test_send_sms(fake: FakeTwilioRest, session: aiohttp.ClientSession) -> None:
    sid = await _client(fake, session).send_sms(TO, FROM, "您的回拨已安排 / callback booked")
    assert sid.startswith("SM")
    request = fake.requests[-1]
    assert request.path.endswith("/Messages.json")
    assert dict(request.form) == {
        "To": TO,
        "From": FROM,
        "Body": "您的回拨已安排 / callback booked",
    }
    assert fake.messages[sid].body == "您的回拨已安排 / callback booked"


async def test_api_key_credentials(fake: FakeTwilioRest, session: aiohttp.ClientSession) -> None:
    client = _client(fake, session, fake.credentials(API_KEY_SID))
    await client.send_sms(TO, FROM, "hi")
    assert fake.requests[-1].auth_user == API_KEY_SID
    assert fake.requests[-1].path.startswith(f"/2010-04-01/Accounts/{fake.account_sid}/")


async def test_wrong_credentials_give_401_with_twilio_fields(
    fake: FakeTwilioRest, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-token-do-not-log"
    creds = TwilioCredentials.from_auth_token(fake.account_sid, secret)
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderHttpError) as info:
        await _client(fake, session, creds).place_call(TO, FROM, "https://h/a", "https://h/s")
    err = info.value
    assert isinstance(err, ProviderApiError)
    assert (err.http_status, err.provider_code) == (401, 20003)
    assert err.more_info == "https://www.twilio.com/docs/errors/20003"
    assert "Authenticate" in str(err)
    for text in (str(err), caplog.text, repr(creds)):
        assert secret not in text
        assert TO not in text


async def test_unknown_call_sid_gives_404_code_20404(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ProviderHttpError) as info:
        await _client(fake, session).hangup("CA" + "0" * 32)
    assert (info.value.http_status, info.value.provider_code) == (404, 20404)


async def test_hangup_of_ended_call_is_an_error(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    call_sid = fake.add_call(status="completed")
    with pytest.raises(ProviderHttpError) as info:
        await _client(fake, session).transfer(call_sid, TransferTarget(TransferKind.CLIENT, "a7"))
    assert (info.value.http_status, info.value.provider_code) == (400, 21220)


async def test_injected_fault_maps_to_error_and_scrubs_numbers(
    fake: FakeTwilioRest, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(400, 21211, f"The 'To' number {TO} is not a valid phone number.")
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderHttpError) as info:
        await _client(fake, session).place_call(TO, FROM, "https://h/a", "https://h/s")
    assert (info.value.http_status, info.value.provider_code) == (400, 21211)
    assert TO not in str(info.value) and TO not in caplog.text
    assert "4567" in str(info.value)  # masked by ivr.core.pii
    # The fault is used up: the next request succeeds.
    assert (await _client(fake, session).send_sms(TO, FROM, "x")).startswith("SM")


async def test_server_error_without_json_body(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    fake.fail_next(503, 20503, "Service unavailable")
    with pytest.raises(ProviderHttpError) as info:
        await _client(fake, session).send_sms(TO, FROM, "x")
    assert info.value.http_status == 503


async def test_timeout_raises_provider_error(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    fake.delay_next(1.0)
    client = _client(fake, session, timeout_s=0.1)
    with pytest.raises(ProviderHttpError, match="timed out") as info:
        await client.send_sms(TO, FROM, "x")
    assert info.value.http_status == 0
    assert isinstance(info.value.__cause__, TimeoutError)


async def test_connection_refused_raises_provider_error(session: aiohttp.ClientSession) -> None:
    fake = FakeTwilioRest()
    base_url = await fake.start()
    await fake.close()  # nothing listens there any more
    client = TwilioRestClient(session, fake.credentials(), base_url=base_url)
    with pytest.raises(ProviderHttpError) as info:
        await client.hangup("CA" + "1" * 32)
    assert info.value.http_status == 0


async def test_cancellation_is_not_swallowed(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    fake.delay_next(5.0)
    task = asyncio.create_task(_client(fake, session).send_sms(TO, FROM, "x"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_unknown_path_on_fake_gives_20404(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    async with session.get(
        f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Queues.json"
    ) as r:
        assert r.status == 404
        assert (await r.json())["code"] == 20404


async def test_fake_rejects_missing_required_fields(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    pair = f"{fake.account_sid}:{fake.credentials().password}".encode()
    auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    async with session.post(url, data={"To": TO, "From": FROM}, headers=auth) as r:
        body = await r.json()
    assert (r.status, body["code"], body["status"]) == (400, 21602, 400)
    assert set(body) >= {"code", "message", "more_info", "status"}


def test_credentials_repr_hides_secret() -> None:
    creds = TwilioCredentials.from_api_key("AC1", "SK1", "very-secret")
    assert "very-secret" not in repr(creds)


async def test_voicemail_message_replaces_the_call_twiml_with_say_and_hangup(
    fake: FakeTwilioRest, session: aiohttp.ClientSession
) -> None:
    call_sid = fake.add_call()
    await _client(fake, session).say_and_hang_up(
        call_sid, "这里是数字钱包客服中心 & 回电请拨 95000。", "zh-CN")
    assert fake.calls[call_sid].twiml == [
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="zh-CN">'
        "这里是数字钱包客服中心 &amp; 回电请拨 95000。</Say><Hangup /></Response>"
    ]
