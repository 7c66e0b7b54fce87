"""The Twilio Media Streams side of the phone simulator: the messages a phone's stream sends."""

from __future__ import annotations

import base64
import contextlib
import json
import xml.etree.ElementTree as ET
from typing import Any

import aiohttp

from ivr.sim.line import Line, SimResult


class TwilioWire:
    """The caller's side of a Twilio Media Streams WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, stream_sid: str,
                 result: SimResult) -> None:
        self.ws = ws
        self.stream_sid = stream_sid
        self.result = result
        self.seq = 2
        self.chunk = 0

    async def send_audio(self, ulaw: bytes) -> None:
        if self.ws.closed:
            raise ConnectionError("media socket closed")
        self.chunk += 1
        self.seq += 1
        msg = {"event": "media", "sequenceNumber": str(self.seq), "streamSid": self.stream_sid,
               "media": {"track": "inbound", "chunk": str(self.chunk),
                         "timestamp": str((self.chunk - 1) * 20),
                         "payload": base64.b64encode(ulaw).decode()}}
        await self.ws.send_str(json.dumps(msg))

    async def send_dtmf(self, digit: str) -> None:
        await self.ws.send_str(json.dumps({"event": "dtmf", "streamSid": self.stream_sid,
                                           "sequenceNumber": "0",
                                           "dtmf": {"track": "inbound_track",
                                                    "digit": digit}}))

    async def send_raw(self, raw: str) -> None:
        await self.ws.send_str(raw)

    async def hangup(self) -> None:
        await send_stop(self.ws, self.stream_sid, self.result)

    async def audio_played(self, line: Line) -> None:
        while line.marks and line.marks[0][0] <= line.played:
            _, name = line.marks.popleft()
            await echo_mark(self.ws, self.stream_sid, name, self.result)


async def send_stop(ws: aiohttp.ClientWebSocketResponse, stream_sid: str,
                     result: SimResult) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionError):
            await ws.send_str(json.dumps({"event": "stop", "streamSid": stream_sid,
                                          "stop": {"callSid": result.call_sid}}))
    result.ended_by = "caller"
    await ws.close()


async def echo_mark(ws: aiohttp.ClientWebSocketResponse, stream_sid: str, name: str,
                     result: SimResult) -> None:
    with contextlib.suppress(ConnectionError):
        await ws.send_str(json.dumps({"event": "mark", "sequenceNumber": "0",
                                      "streamSid": stream_sid, "mark": {"name": name}}))
        result.marks_echoed += 1


def start_message(call_sid: str, stream_sid: str, account_sid: str,
                   params: dict[str, str]) -> dict[str, Any]:
    return {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": account_sid,
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": params,
        },
        "streamSid": stream_sid,
    }


def parse_twiml(twiml: str) -> tuple[str | None, dict[str, str]]:
    root = ET.fromstring(twiml)
    stream = root.find("./Connect/Stream")
    if stream is None:
        return None, {}
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return stream.get("url"), params
