"""The Twilio adapter in neutral terms: webhooks become identities and status updates, TwiML
carries the IVR's stream parameters, the media WebSocket becomes a PCM channel."""

from __future__ import annotations

import base64
import json
from collections import deque
from dataclasses import dataclass, field

import pytest

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.core.errors import SignatureError, WireError
from ivr.telephony.provider import (
    Admission,
    AnsweredBy,
    AudioIn,
    CallDirection,
    CallIdentity,
    CallProgress,
    CallStatusUpdate,
    DigitIn,
    HttpRequest,
    MediaChannel,
    StreamEnded,
    WireProblem,
)
from ivr.telephony.twilio.adapter import TwilioAdapter
from ivr.telephony.twilio.channel import TwilioMediaChannel
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, TwilioSignatureValidator, sign

PUBLIC = "https://ivr.example.com"
TOKEN = "twilio-auth-token-for-tests"
SID = "CA" + "1" * 32


@dataclass
class Sink:
    admission: Admission = field(default_factory=lambda: Admission(True, "zh", {"lang": "zh"}))
    arrived: list[CallIdentity] = field(default_factory=list)
    statuses: list[CallStatusUpdate] = field(default_factory=list)

    async def call_arrived(self, identity: CallIdentity) -> Admission:
        self.arrived.append(identity)
        return self.admission

    async def call_status(self, provider: str, update: CallStatusUpdate) -> None:
        self.statuses.append(update)

    async def media_connected(self, channel: MediaChannel) -> None:
        return None


def signed(path: str, form: dict[str, str]) -> HttpRequest:
    query = dict(p.split("=") for p in path.partition("?")[2].split("&") if p)
    return HttpRequest("POST", path, query, {SIGNATURE_HEADER: sign(PUBLIC + path, form, TOKEN)},
                       form)


async def adapter(sink: Sink) -> TwilioAdapter:
    a = TwilioAdapter(public_url=PUBLIC, validator=TwilioSignatureValidator(TOKEN, PUBLIC))
    await a.start(sink)
    return a


async def test_voice_webhook_announces_the_call_and_connects_its_stream() -> None:
    sink = Sink(Admission(True, "en", {"lang": "en", "call_token": "t0k"}))
    twilio = await adapter(sink)
    route = {r.path: r for r in twilio.http_routes()}["/twilio/voice"]
    form = {"CallSid": SID, "From": "+8613800001111", "To": "+8610000000",
            "Direction": "outbound-api", "CallStatus": "in-progress"}
    reply = await route.handler(signed("/twilio/voice?customer_id=C-1&campaign_id=k", form))
    (identity,) = sink.arrived
    assert (identity.provider, identity.call_id, identity.direction) == (
        "twilio", SID, CallDirection.OUTBOUND)
    assert identity.params == {"customer_id": "C-1", "campaign_id": "k"}
    assert reply.content_type == "application/xml"
    assert '<Stream url="wss://ivr.example.com/twilio/media">' in reply.body
    assert '<Parameter name="call_token" value="t0k" />' in reply.body


async def test_refused_call_plays_the_apology() -> None:
    sink = Sink(Admission(False, "zh", refusal_reason="capacity",
                          refusal_audio_url=f"{PUBLIC}/prompts/unavailable-zh.wav"))
    route = {r.path: r for r in (await adapter(sink)).http_routes()}["/twilio/voice"]
    reply = await route.handler(signed("/twilio/voice", {"CallSid": SID}))
    assert "<Play>https://ivr.example.com/prompts/unavailable-zh.wav</Play>" in reply.body
    assert "<Stream" not in reply.body


async def test_webhooks_need_the_signature_and_a_call_sid() -> None:
    route = {r.path: r for r in (await adapter(Sink())).http_routes()}["/twilio/voice"]
    forged = HttpRequest("POST", "/twilio/voice", {}, {SIGNATURE_HEADER: "Zm9yZ2Vk"},
                         {"CallSid": SID})
    with pytest.raises(SignatureError):
        await route.handler(forged)
    with pytest.raises(WireError):
        await route.handler(signed("/twilio/voice", {"CallSid": "XX123"}))


@pytest.mark.parametrize(("form", "progress", "answered_by"), [
    ({"CallStatus": "no-answer"}, CallProgress.NO_ANSWER, None),
    ({"CallStatus": "in-progress"}, CallProgress.ANSWERED, None),
    ({"AnsweredBy": "machine_end_beep"}, None, AnsweredBy.MACHINE),
    ({"CallStatus": "completed", "AnsweredBy": "human"}, CallProgress.COMPLETED,
     AnsweredBy.HUMAN),
])
async def test_status_reports_become_neutral(form: dict[str, str], progress: CallProgress | None,
                                             answered_by: AnsweredBy | None) -> None:
    sink = Sink()
    route = {r.path: r for r in (await adapter(sink)).http_routes()}["/twilio/status"]
    reply = await route.handler(signed("/twilio/status?attempt_id=AT1",
                                       {"CallSid": SID, **form}))
    assert reply.status == 204
    (update,) = sink.statuses
    assert (update.progress, update.answered_by, update.attempt_id) == (
        progress, answered_by, "AT1")


@dataclass
class Socket:
    inbox: deque[str | bytes] = field(default_factory=deque)
    sent: list[dict[str, object]] = field(default_factory=list)
    closed: bool = False

    async def receive(self) -> str | bytes | None:
        return self.inbox.popleft() if self.inbox else None

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self) -> None:
        self.closed = True


def media(pcm: bytes) -> str:
    payload = base64.b64encode(pcm16_to_ulaw(pcm)).decode()
    return json.dumps({"event": "media", "streamSid": "MZ1",
                       "media": {"track": "inbound", "payload": payload}})


START = json.dumps({"event": "start", "streamSid": "MZ1", "start": {
    "streamSid": "MZ1", "callSid": SID, "accountSid": "AC1",
    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    "customParameters": {"call_token": "t0k"}}})


async def test_media_channel_speaks_pcm_both_ways() -> None:
    tone = ulaw_to_pcm16(pcm16_to_ulaw(b"\x10\x20" * 160))
    socket = Socket(deque(["not json", json.dumps({"event": "connected"}), START, media(tone),
                           json.dumps({"event": "dtmf", "streamSid": "MZ1",
                                       "dtmf": {"digit": "*"}}),
                           json.dumps({"event": "mark", "streamSid": "MZ1",
                                       "mark": {"name": "m"}}),
                           b"\x00binary", json.dumps({"event": "stop", "streamSid": "MZ1"})]))
    channel = TwilioMediaChannel(socket)
    start = await channel.start()
    assert (start.call_id, start.rate, start.frame_ms) == (SID, 8000, 20)
    assert start.params == {"call_token": "t0k"}
    events = [ev async for ev in channel.events()]
    assert isinstance(events[0], WireProblem) and events[0].code == "wire_malformed"
    assert events[1:] == [AudioIn(tone), DigitIn("*"),
                          WireProblem("wire_malformed", "binary frame on a JSON stream"),
                          StreamEnded("stop")]
    await channel.send_audio(tone)
    await channel.clear()
    assert socket.sent[0]["event"] == "media" and socket.sent[0]["streamSid"] == "MZ1"
    payload = base64.b64decode(socket.sent[0]["media"]["payload"])  # type: ignore[index]
    assert payload == pcm16_to_ulaw(tone)
    assert socket.sent[1] == {"event": "clear", "streamSid": "MZ1"}


async def test_a_stream_that_ends_before_start_is_a_wire_error() -> None:
    with pytest.raises(WireError):
        await TwilioMediaChannel(Socket(deque([json.dumps({"event": "connected"})]))).start()
