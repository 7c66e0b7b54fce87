"""The phone simulator: places a call against a running IVR exactly as Twilio would.

Signed voice webhook → TwiML → signed Media Streams WebSocket; continuous 20 ms μ-law frames
(silence between utterances) in real time; the bot's audio is "played" on the same 20 ms clock,
marks are echoed once the audio before them has played, ``clear`` drops unplayed audio and
echoes pending marks (as Twilio does).

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
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.sim.script import CallerTurn, CallScript
from ivr.sim.wavio import read_wav_8k, voiced_span_ms
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

FRAME = 160  # bytes of μ-law per 20 ms at 8 kHz
SILENCE = b"\xff" * FRAME


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


@dataclass
class TurnTiming:
    index: int
    kind: str  # speech | dtmf | silence
    said: str
    latency_ms: float | None = None
    barge_in: bool = False


@dataclass
class SimResult:
    call_sid: str
    refused: bool = False
    twiml: str = ""
    greeting_ms: float | None = None  # stream start -> first bot audio
    answer_ms: float | None = None  # voice webhook sent (the call answered) -> first bot audio
    turns: list[TurnTiming] = field(default_factory=list)
    frames_sent: int = 0
    frames_late: int = 0
    bot_frames: int = 0
    marks_echoed: int = 0
    clears: int = 0
    ended_by: str = ""
    duration_s: float = 0.0
    record: dict[str, Any] | None = None
    recording: bytes = b""  # stereo PCM16 8 kHz: left caller, right bot
    errors: list[str] = field(default_factory=list)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


# The next 20 ms caller frame (160 bytes of μ-law) and whether it is the last voiced frame of an
# utterance (the reference point for the reply latency).
CallerSource = Callable[[], tuple[bytes, bool]]
# The bot audio "played" in one 20 ms tick (up to 160 bytes of μ-law; b"" when nothing played).
BotSink = Callable[[bytes], None]


def ulaw_frames(pcm8k: bytes) -> list[bytes]:
    ulaw = pcm16_to_ulaw(pcm8k)
    frames = [ulaw[i : i + FRAME] for i in range(0, len(ulaw), FRAME)]
    if frames and len(frames[-1]) < FRAME:
        frames[-1] = frames[-1] + b"\xff" * (FRAME - len(frames[-1]))
    return frames


class _Line:
    """State shared by the 20 ms clock, the receiver and the script driver of one call."""

    def __init__(self, source: CallerSource | None = None, sink: BotSink | None = None) -> None:
        self.outgoing: deque[tuple[bytes, bool]] = deque()
        self.source: CallerSource = source or self.scripted_frame
        self.sink = sink
        self.play: bytearray = bytearray()
        self.received = 0
        self.played = 0
        self.marks: deque[tuple[int, str]] = deque()
        self.last_bot_audio = 0.0
        self.turn_bot_frames = 0
        self.awaiting: TurnTiming | None = None
        self.reference: float | None = None
        self.rec_caller = bytearray()
        self.rec_bot = bytearray()
        self.closed = asyncio.Event()
        self.started = 0.0
        self.answered = 0.0

    def scripted_frame(self) -> tuple[bytes, bool]:
        """The default caller source: queued script audio, silence between utterances."""
        return self.outgoing.popleft() if self.outgoing else (SILENCE, False)


@dataclass
class LiveCall:
    """A connected media stream (clock and receiver running), handed to a call driver."""

    call_sid: str
    stream_sid: str
    ws: aiohttp.ClientWebSocketResponse
    line: _Line
    result: SimResult

    @property
    def closed(self) -> asyncio.Event:
        """Set when the server has closed the media stream."""
        return self.line.closed

    async def hangup(self) -> None:
        """The caller hangs up: a ``stop`` message, then the socket closes."""
        await _send_stop(self.ws, self.stream_sid, self.result)


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
            await self._drive(live.ws, live.stream_sid, script, live.line, live.result,
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
        line = _Line(source, sink)
        line.answered = started
        async with aiohttp.ClientSession() as http:
            twiml = await self._webhook(http, sid, script)
            result.twiml = twiml
            stream_url, params = _parse_twiml(twiml)
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
        line: _Line,
    ) -> None:
        parts = urlsplit(stream_url)
        scheme = "wss" if self._base.startswith("https") else "ws"
        ws_base = scheme + self._base[self._base.index(":") :]
        connect_url = ws_base + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {SIGNATURE_HEADER: sign(stream_url, {}, self.o.auth_token)}
        stream_sid = new_sid("MZ")
        async with http.ws_connect(connect_url, headers=headers, max_msg_size=1 << 20) as ws:
            await ws.send_str(json.dumps({"event": "connected", "protocol": "Call",
                                          "version": "1.0.0"}))
            for raw in script.before_start:
                await ws.send_str(raw)
            await ws.send_str(json.dumps(_start_message(sid, stream_sid, self.o.account_sid,
                                                        params)))
            line.started = time.monotonic()
            clock = asyncio.create_task(self._clock(ws, stream_sid, line, result))
            receiver = asyncio.create_task(self._receive(ws, stream_sid, line, result))
            try:
                await drive(LiveCall(sid, stream_sid, ws, line, result))
            finally:
                clock.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await clock
                if not ws.closed:
                    await ws.close()
                receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiver
        result.recording = _interleave(bytes(line.rec_caller), bytes(line.rec_bot))

    async def _clock(self, ws: aiohttp.ClientWebSocketResponse, stream_sid: str, line: _Line,
                     result: SimResult) -> None:
        """Every 20 ms: send one caller frame, play one bot frame, echo due marks."""
        seq = 2
        chunk = 0
        t0 = time.monotonic()
        while not ws.closed:
            frame, last_voiced = line.source()
            chunk += 1
            seq += 1
            msg = {"event": "media", "sequenceNumber": str(seq), "streamSid": stream_sid,
                   "media": {"track": "inbound", "chunk": str(chunk),
                             "timestamp": str((chunk - 1) * 20),
                             "payload": base64.b64encode(frame).decode()}}
            try:
                await ws.send_str(json.dumps(msg))
            except ConnectionError:
                break
            result.frames_sent += 1
            line.rec_caller += ulaw_to_pcm16(frame)
            if last_voiced and line.awaiting is not None:
                line.reference = time.monotonic()
            played = bytes(line.play[:FRAME])
            del line.play[:FRAME]
            if played:
                line.played += len(played)
                line.turn_bot_frames += 1
                line.last_bot_audio = time.monotonic()
                result.bot_frames += 1
            line.rec_bot += ulaw_to_pcm16(played.ljust(FRAME, b"\xff"))
            if line.sink is not None:
                line.sink(played)
            while line.marks and line.marks[0][0] <= line.played:
                _, name = line.marks.popleft()
                await _echo_mark(ws, stream_sid, name, result)
            delay = t0 + chunk * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.02:
                result.frames_late += 1

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse, stream_sid: str,
                       line: _Line, result: SimResult) -> None:
        try:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                event = data.get("event")
                if event == "media":
                    payload = base64.b64decode(data["media"]["payload"])
                    now = time.monotonic()
                    if result.greeting_ms is None:
                        result.greeting_ms = (now - line.started) * 1000
                        result.answer_ms = (now - line.answered) * 1000
                    if line.awaiting is not None and line.reference is not None:
                        line.awaiting.latency_ms = (now - line.reference) * 1000
                        line.awaiting = None
                        line.reference = None
                    line.play += payload
                    line.received += len(payload)
                    line.last_bot_audio = now
                elif event == "mark":
                    line.marks.append((line.received, data["mark"]["name"]))
                elif event == "clear":
                    result.clears += 1
                    line.received -= len(line.play)
                    line.play.clear()
                    while line.marks:
                        _, name = line.marks.popleft()
                        await _echo_mark(ws, stream_sid, name, result)
        finally:
            if not result.ended_by:
                result.ended_by = "server"
            line.closed.set()

    async def _bot_done(self, line: _Line) -> bool:
        """Wait until the bot has spoken and gone quiet; False if the server hung up."""
        deadline = time.monotonic() + self.o.turn_timeout_s
        while time.monotonic() < deadline and not line.closed.is_set():
            quiet = (time.monotonic() - line.last_bot_audio) * 1000
            if (line.turn_bot_frames and not line.play and not line.marks
                    and quiet >= self.o.quiet_ms):
                return True
            await asyncio.sleep(0.02)
        return not line.closed.is_set()

    async def _bot_spoke(self, line: _Line, ms: int) -> bool:
        deadline = time.monotonic() + self.o.turn_timeout_s
        while time.monotonic() < deadline and not line.closed.is_set():
            if line.turn_bot_frames * 20 >= ms:
                return True
            await asyncio.sleep(0.01)
        return False

    async def _drive(self, ws: aiohttp.ClientWebSocketResponse, stream_sid: str,
                     script: CallScript, line: _Line, result: SimResult,
                     before_turn: Callable[[int], Awaitable[None]] | None) -> None:
        for index, turn in enumerate(script.turns):
            if line.closed.is_set():
                result.errors.append(f"server hung up before caller turn {index + 1}")
                return
            if turn.barge_in_ms is not None:
                if not await self._bot_spoke(line, turn.barge_in_ms):
                    result.errors.append(f"turn {index + 1}: bot never spoke for barge-in")
            elif turn.pause_ms is not None:
                await asyncio.sleep(turn.pause_ms / 1000)  # mid-answer: the bot stays quiet
            elif (index > 0 or not script.outbound) and not await self._bot_done(line):
                result.errors.append(f"turn {index + 1}: bot did not finish speaking")
            if before_turn is not None:
                await before_turn(index)
            for raw in turn.raw:
                await ws.send_str(raw)
            if turn.hangup:
                await _send_stop(ws, stream_sid, result)
                return
            await self._act(ws, stream_sid, index, turn, line, result)
        await self._bot_done(line)
        if not line.closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(line.closed.wait(), self.o.turn_timeout_s)
        if not line.closed.is_set():
            result.ended_by = "caller"

    async def _act(self, ws: aiohttp.ClientWebSocketResponse, stream_sid: str, index: int,
                   turn: CallerTurn, line: _Line, result: SimResult) -> None:
        timing = TurnTiming(index + 1, "silence", "", barge_in=turn.barge_in_ms is not None)
        line.turn_bot_frames = 0
        if turn.silence_ms:
            if turn.wav is None:  # a pause before speech is part of the speech turn
                result.turns.append(timing)
            await asyncio.sleep(turn.silence_ms / 1000)
        if turn.wav is not None:
            pcm = read_wav_8k(turn.wav)
            frames = ulaw_frames(pcm)
            _, end_ms = voiced_span_ms(pcm)
            last = max(0, min(len(frames), end_ms // 20) - 1)
            timing.kind, timing.said = "speech", turn.say or turn.wav.name
            line.reference = None
            line.awaiting = timing
            line.outgoing.extend((f, i == last) for i, f in enumerate(frames))
            result.turns.append(timing)
            await _drained(line)
        if turn.digits:
            timing = TurnTiming(index + 1, "dtmf", turn.digits)
            result.turns.append(timing)
            for i, digit in enumerate(turn.digits):
                if i == len(turn.digits) - 1:
                    line.awaiting = timing
                    line.reference = time.monotonic()
                try:
                    await ws.send_str(json.dumps({"event": "dtmf", "streamSid": stream_sid,
                                                  "sequenceNumber": "0",
                                                  "dtmf": {"track": "inbound_track",
                                                           "digit": digit}}))
                except ConnectionError:  # the server ended the call meanwhile
                    result.errors.append(f"turn {index + 1}: the call ended while keying")
                    return
                await asyncio.sleep(0.15)
        line.turn_bot_frames = 0
        line.last_bot_audio = time.monotonic()

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


async def _drained(line: _Line) -> None:
    """Wait until the clock has sent every queued caller frame (or the call ended)."""
    while line.outgoing and not line.closed.is_set():  # noqa: ASYNC110 - polled on the 20 ms clock
        await asyncio.sleep(0.02)


async def _send_stop(ws: aiohttp.ClientWebSocketResponse, stream_sid: str,
                     result: SimResult) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionError):
            await ws.send_str(json.dumps({"event": "stop", "streamSid": stream_sid,
                                          "stop": {"callSid": result.call_sid}}))
    result.ended_by = "caller"
    await ws.close()


async def _echo_mark(ws: aiohttp.ClientWebSocketResponse, stream_sid: str, name: str,
                     result: SimResult) -> None:
    with contextlib.suppress(ConnectionError):
        await ws.send_str(json.dumps({"event": "mark", "sequenceNumber": "0",
                                      "streamSid": stream_sid, "mark": {"name": name}}))
        result.marks_echoed += 1


def _start_message(call_sid: str, stream_sid: str, account_sid: str,
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


def _parse_twiml(twiml: str) -> tuple[str | None, dict[str, str]]:
    root = ET.fromstring(twiml)
    stream = root.find("./Connect/Stream")
    if stream is None:
        return None, {}
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return stream.get("url"), params


def _interleave(left: bytes, right: bytes) -> bytes:
    import numpy as np

    n = min(len(left), len(right)) // 2
    a = np.frombuffer(left[: n * 2], dtype="<i2")
    b = np.frombuffer(right[: n * 2], dtype="<i2")
    return np.column_stack([a, b]).astype("<i2").tobytes()
