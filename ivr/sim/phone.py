"""The phone simulator: places a call against a running IVR exactly as Twilio would.

Signed voice webhook → TwiML → signed Media Streams WebSocket; continuous 20 ms μ-law frames
(silence between utterances) in real time; the bot's audio is "played" on the same 20 ms clock,
marks are echoed once the audio before them has played, ``clear`` drops unplayed audio and
echoes pending marks (as Twilio does). The line, its clock, the optional echo of the bot's audio
into the caller's track and the script driver are provider-neutral (:mod:`ivr.sim.line`);
:mod:`ivr.sim.asterisk_phone` places the same calls through Asterisk.

The caller audio source and the bot audio sink are pluggable (:meth:`PhoneSimulator.run`): a
script drives :meth:`PhoneSimulator.call`; the softphone (``ivr.sim.softphone``) plugs in a
microphone and a speaker."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from ivr.audio.mulaw import ulaw_to_pcm16
from ivr.sim.echo import EchoPath, EchoSpec
from ivr.sim.line import (
    FRAME,
    SILENCE,
    BotSink,
    CallerSource,
    Line,
    SimResult,
    TurnTiming,
    interleave,
    ulaw_frames,
)
from ivr.sim.script import CallScript
from ivr.sim.turns import Pacing, drive_script
from ivr.sim.twilio_wire import TwilioWire, echo_mark, parse_twiml, send_stop, start_message
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, sign

__all__ = ["FRAME", "SILENCE", "BotSink", "CallDriver", "CallerSource", "LiveCall",
           "PhoneSimulator", "SimOptions", "SimResult", "TurnTiming", "new_sid", "ulaw_frames"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimOptions:
    base_url: str
    auth_token: str
    public_url: str | None = None
    account_sid: str = "AC" + "0" * 32
    from_number: str = "+8613812345678"
    to_number: str = "+8601012345678"
    quiet_ms: int = 700
    turn_timeout_s: float = 60.0
    api_token: str = ""
    # Leak the bot's audio back into the caller's track (speakerphone / hybrid echo).
    echo: EchoSpec | None = None
    # Where the media WebSocket connects (default base_url): another worker of a cluster,
    # as a load balancer in front of several workers may do.
    media_url: str | None = None

    @property
    def pacing(self) -> Pacing:
        return Pacing(self.quiet_ms, self.turn_timeout_s)

    def new_line(self, source: CallerSource | None = None, sink: BotSink | None = None) -> Line:
        echo = EchoPath(self.echo, 8000) if self.echo is not None else None
        return Line(source, sink, echo)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class LiveCall:
    """A connected media stream (clock and receiver running), handed to a call driver."""

    call_sid: str
    stream_sid: str
    ws: aiohttp.ClientWebSocketResponse
    line: Line
    result: SimResult
    wire: TwilioWire

    @property
    def closed(self) -> asyncio.Event:
        """Set when the server has closed the media stream."""
        return self.line.closed

    async def hangup(self) -> None:
        """The caller hangs up: a ``stop`` message, then the socket closes."""
        await send_stop(self.ws, self.stream_sid, self.result)


CallDriver = Callable[[LiveCall], Awaitable[None]]


class PhoneSimulator:
    def __init__(self, options: SimOptions) -> None:
        self.o = options
        self._public = (options.public_url or options.base_url).rstrip("/")
        self._base = options.base_url.rstrip("/")

    async def call(
        self,
        script: CallScript,
        *,
        record: bool = True,
        before_turn: Callable[[int], Awaitable[None]] | None = None,
        call_sid: str | None = None,
    ) -> SimResult:
        """Place one call. ``before_turn(i)`` runs just before caller turn ``i`` (0-based),
        after the bot has finished speaking — a hook for fault injection in tests."""

        async def drive(live: LiveCall) -> None:
            await drive_script(live.wire, script, live.line, live.result, self.o.pacing,
                               before_turn)

        return await self.run(script, drive, record=record, call_sid=call_sid)

    async def run(
        self,
        script: CallScript,
        drive: CallDriver,
        *,
        source: CallerSource | None = None,
        sink: BotSink | None = None,
        record: bool = True,
        call_sid: str | None = None,
    ) -> SimResult:
        """Place one call whose caller is ``drive``: it runs once the media stream has started
        and the call lasts until it returns. ``source`` supplies the caller's 20 ms frames
        (default: the script audio queued by ``drive``), ``sink`` receives the bot audio as it
        is played. ``script`` gives the language and customer (its turns are not used here)."""
        sid = call_sid or new_sid("CA")
        result = SimResult(call_sid=sid)
        started = time.monotonic()
        line = self.o.new_line(source, sink)
        line.answered = started
        async with aiohttp.ClientSession() as http:
            twiml = await self._webhook(http, sid, script)
            result.twiml = twiml
            stream_url, params = parse_twiml(twiml)
            if stream_url is None:
                result.refused = True
                result.ended_by = "refused"
            else:
                await self._stream(http, sid, stream_url, params, script, result, drive, line)
            result.duration_s = time.monotonic() - started
            if record:
                result.record = await self._fetch_record(http, sid)
        return result

    async def _webhook(self, http: aiohttp.ClientSession, sid: str, script: CallScript) -> str:
        query = {"lang": script.lang.value}
        for key in ("id", "name", "title"):
            if script.customer.get(key):
                query[f"customer_{key}"] = script.customer[key]
        path = "/twilio/voice?" + urlencode(query)
        form = {
            "AccountSid": self.o.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": "ringing",
            "Direction": "outbound-api" if script.outbound else "inbound",
            "From": self.o.from_number,
            "To": self.o.to_number,
        }
        headers = {SIGNATURE_HEADER: sign(self._public + path, form, self.o.auth_token)}
        async with http.post(self._base + path, data=form, headers=headers) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"voice webhook answered HTTP {resp.status}: {text.strip()}")
            return text

    async def _stream(
        self,
        http: aiohttp.ClientSession,
        sid: str,
        stream_url: str,
        params: dict[str, str],
        script: CallScript,
        result: SimResult,
        drive: CallDriver,
        line: Line,
    ) -> None:
        parts = urlsplit(stream_url)
        media = (self.o.media_url or self._base).rstrip("/")
        scheme = "wss" if media.startswith("https") else "ws"
        ws_base = scheme + media[media.index(":") :]
        connect_url = ws_base + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {SIGNATURE_HEADER: sign(stream_url, {}, self.o.auth_token)}
        stream_sid = new_sid("MZ")
        async with http.ws_connect(connect_url, headers=headers, max_msg_size=1 << 20) as ws:
            await ws.send_str(json.dumps({"event": "connected", "protocol": "Call",
                                          "version": "1.0.0"}))
            for raw in script.before_start:
                await ws.send_str(raw)
            await ws.send_str(json.dumps(start_message(sid, stream_sid, self.o.account_sid,
                                                        params)))
            line.started = time.monotonic()
            wire = TwilioWire(ws, stream_sid, result)
            clock = asyncio.create_task(line.run_clock(wire, result))
            receiver = asyncio.create_task(self._receive(ws, stream_sid, line, result))
            try:
                await drive(LiveCall(sid, stream_sid, ws, line, result, wire))
            finally:
                line.closed.set()
                clock.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await clock
                if not ws.closed:
                    await ws.close()
                receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiver
        result.recording = interleave(bytes(line.rec_caller), bytes(line.rec_bot))

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse, stream_sid: str,
                       line: Line, result: SimResult) -> None:
        try:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                event = data.get("event")
                if event == "media":
                    line.bot_audio(ulaw_to_pcm16(base64.b64decode(data["media"]["payload"])),
                                   result)
                elif event == "mark":
                    line.marks.append((line.received, data["mark"]["name"]))
                elif event == "clear":
                    result.clears += 1
                    line.clear()
                    while line.marks:
                        _, name = line.marks.popleft()
                        await echo_mark(ws, stream_sid, name, result)
        finally:
            if not result.ended_by:
                result.ended_by = "server"
            line.closed.set()

    async def _fetch_record(self, http: aiohttp.ClientSession, sid: str) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self.o.api_token}"} if self.o.api_token else {}
        for _ in range(20):
            async with http.get(f"{self._base}/api/calls/{sid}", headers=headers) as resp:
                if resp.status == 200:
                    data: dict[str, Any] = await resp.json()
                    if data.get("ended_at") or data.get("outcome"):
                        return data
            await asyncio.sleep(0.25)
        return None
