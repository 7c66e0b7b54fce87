"""Acts like Twilio against the in-process harness: signed webhooks, signed media upgrades,
Media Streams messages (the documented wire format)."""

from __future__ import annotations

import base64
import json
import secrets
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import aiohttp

from ivr.telephony.twilio.signature import SIGNATURE_HEADER, sign
from tests.security.harness import AUTH_TOKEN, Harness

FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def new_sid(prefix: str = "CA") -> str:
    return prefix + secrets.token_hex(16)


def voice_form(call_sid: str, **extra: str) -> dict[str, str]:
    form = {"AccountSid": "AC" + "0" * 32, "CallSid": call_sid, "CallStatus": "ringing",
            "Direction": "inbound", "From": "+8613812345678", "To": "+8601012345678"}
    form.update(extra)
    return form


async def post_signed(h: Harness, path: str, form: dict[str, str]) -> aiohttp.ClientResponse:
    signature = sign(h.config.server.public_url + path, form, AUTH_TOKEN)
    return await h.client.post(path, data=form, headers={SIGNATURE_HEADER: signature})


async def voice(h: Harness, call_sid: str, query: dict[str, str] | None = None,
                **extra: str) -> str:
    path = "/twilio/voice" + (f"?{urlencode(query)}" if query else "")
    resp = await post_signed(h, path, voice_form(call_sid, **extra))
    assert resp.status == 200, await resp.text()
    return await resp.text()


def stream_parameters(twiml: str) -> dict[str, str]:
    stream = ET.fromstring(twiml).find("./Connect/Stream")
    assert stream is not None, twiml
    return {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}


async def open_stream(h: Harness, session: aiohttp.ClientSession,
                      **kw: Any) -> aiohttp.ClientWebSocketResponse:
    ws_public = "wss" + h.config.server.public_url.removeprefix("https") + "/twilio/media"
    headers = {SIGNATURE_HEADER: sign(ws_public, {}, AUTH_TOKEN)}
    return await session.ws_connect(h.ws_url("/twilio/media"), headers=headers, **kw)


def start_message(call_sid: str, stream_sid: str, params: dict[str, str],
                  encoding: str = "audio/x-mulaw", rate: int = 8000) -> str:
    return json.dumps({
        "event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
        "start": {"accountSid": "AC" + "0" * 32, "streamSid": stream_sid, "callSid": call_sid,
                  "tracks": ["inbound"], "customParameters": params,
                  "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1}}})


def media_message(stream_sid: str, payload: bytes, seq: int = 2) -> str:
    return json.dumps({"event": "media", "sequenceNumber": str(seq), "streamSid": stream_sid,
                       "media": {"track": "inbound", "chunk": str(seq), "timestamp": "0",
                                 "payload": base64.b64encode(payload).decode()}})


async def closed(ws: aiohttp.ClientWebSocketResponse, limit_s: float = 5.0) -> int | None:
    """Read until the server closes the socket; its close code."""
    import asyncio

    async def drain() -> None:
        async for _msg in ws:
            pass

    await asyncio.wait_for(drain(), limit_s)
    return ws.close_code


async def started_call(h: Harness, session: aiohttp.ClientSession, call_sid: str | None = None,
                       query: dict[str, str] | None = None,
                       ) -> tuple[str, str, aiohttp.ClientWebSocketResponse]:
    """A call admitted the way Twilio does it: voice webhook, then its stream with the ticket."""
    import asyncio

    sid = call_sid or new_sid()
    params = stream_parameters(await voice(h, sid, query))
    ws = await open_stream(h, session)
    stream_sid = new_sid("MZ")
    await ws.send_str(start_message(sid, stream_sid, params))
    for _ in range(200):
        if sid in h.services.active:
            break
        await asyncio.sleep(0.01)
    assert sid in h.services.active, "the stream was not admitted"
    return sid, stream_sid, ws
