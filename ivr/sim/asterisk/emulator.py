"""The Asterisk emulator: ARI over HTTP + WebSocket on loopback, AudioSocket legs to the IVR.

It behaves like Asterisk 20 for the resources the adapter uses: a call entering the dialplan's
``Stasis(app)`` raises ``StasisStart``; ``answer``, hang-up, ``continue``, originate (ringing,
then ``StasisStart`` when answered or ``ChannelDestroyed`` with a Q.850 cause),
``externalMedia`` with AudioSocket (a TCP connection to ``external_host``, the UUID first) and
mixing bridges that join a caller's audio to an AudioSocket channel. Requests need HTTP basic
auth (or ``api_key=user:password``) like ``ari.conf`` users; bad requests get ARI's 4xx."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import WSMsgType, web

from ivr.sim.asterisk.media import MediaLeg
from ivr.sim.asterisk.model import (
    EmuBridge,
    EmuChannel,
    OriginateRequest,
    PhoneLeg,
    event,
    unique_id,
)
from ivr.sim.asterisk.rest import AriRest
from ivr.telephony.asterisk import audiosocket as aus

log = logging.getLogger(__name__)

CAUSES = {"answer": (16, "Normal Clearing"), "busy": (17, "User busy"),
          "no_answer": (19, "No answer"), "failed": (34, "Circuit/channel congestion")}


# Decides how the callee reacts: "answer", "busy", "no_answer" or "failed".
OriginateHandler = Callable[[OriginateRequest], Awaitable[str]]


class AsteriskEmulator:
    def __init__(self, *, user: str = "ivr", password: str = "secret", app: str = "ivr",
                 dtmf_over_audiosocket: bool = True) -> None:
        self.user, self.password, self.app = user, password, app
        self.dtmf_over_audiosocket = dtmf_over_audiosocket
        self.channels: dict[str, EmuChannel] = {}
        self.bridges: dict[str, EmuBridge] = {}
        self.media: dict[str, MediaLeg] = {}  # AudioSocket channel id → its TCP leg
        self.originated: list[OriginateRequest] = []
        self.requests: list[tuple[str, str]] = []
        self.on_originate: OriginateHandler | None = None
        self.answered_legs: asyncio.Queue[PhoneLeg] = asyncio.Queue()
        self._sockets: set[web.WebSocketResponse] = set()
        self._subscribed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        rest = AriRest(self)
        app = web.Application(middlewares=[rest.auth])
        app.router.add_get("/ari/events", self._events)
        app.router.add_post("/ari/channels", rest.originate)
        app.router.add_post("/ari/channels/externalMedia", rest.external_media)
        app.router.add_post("/ari/channels/{id}", rest.originate)
        app.router.add_delete("/ari/channels/{id}", rest.hangup)
        app.router.add_post("/ari/channels/{id}/answer", rest.answer)
        app.router.add_post("/ari/channels/{id}/continue", rest.continue_in_dialplan)
        app.router.add_post("/ari/bridges", rest.create_bridge)
        app.router.add_post("/ari/bridges/{id}", rest.create_bridge)
        app.router.add_post("/ari/bridges/{id}/addChannel", rest.add_channel)
        app.router.add_delete("/ari/bridges/{id}", rest.destroy_bridge)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return f"http://{host}:{self.port}/ari"

    async def close(self) -> None:
        for leg in list(self.media.values()):
            await leg.close()
        for ws in list(self._sockets):
            await ws.close()
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_subscribed(self, timeout_s: float = 10.0) -> None:
        """Until the IVR's ARI event WebSocket for our app is connected."""
        await asyncio.wait_for(self._subscribed.wait(), timeout_s)

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- what a phone does -----------------------------------------------------------------

    async def incoming_call(self, caller_number: str, exten: str, args: Sequence[str] = (),
                            variables: dict[str, str] | None = None) -> PhoneLeg:
        """A call from the trunk reaches ``exten``, whose dialplan runs ``Stasis(app,args)``."""
        cid = unique_id()
        leg = PhoneLeg(cid)
        chan = EmuChannel(cid, f"PJSIP/trunk-{len(self.channels):08x}", state="Ring",
                          caller_number=caller_number, exten=exten,
                          variables=dict(variables or {}), app=self.app, leg=leg)
        self.channels[cid] = chan
        await self.emit("StasisStart", args=list(args), channel=chan.json())
        return leg

    async def send_audio(self, leg: PhoneLeg, pcm: bytes) -> None:
        """One frame the caller says (slin 8 kHz); reaches the IVR when bridged to it."""
        media = self._bridged_media(leg.channel_id)
        if media is not None:
            leg.frames_sent += 1
            await media.send(aus.encode_audio(pcm))

    async def press(self, leg: PhoneLeg, digit: str) -> None:
        chan = self.channels.get(leg.channel_id)
        if chan is None or chan.destroyed:
            return
        leg.digits_sent += 1
        if chan.app:
            await self.emit("ChannelDtmfReceived", digit=digit, duration_ms=100,
                             channel=chan.json())
        media = self._bridged_media(leg.channel_id)
        if media is not None and self.dtmf_over_audiosocket:
            await media.send(aus.encode_dtmf(digit))

    async def hang_up(self, leg: PhoneLeg) -> None:
        """The caller hangs up."""
        chan = self.channels.get(leg.channel_id)
        if chan is not None and not chan.destroyed:
            leg.ended_by = leg.ended_by or "caller"
            await self.emit("ChannelHangupRequest", cause=16, soft=False, channel=chan.json())
            await self.destroy(chan, 16, "Normal Clearing")

    def _bridged_media(self, channel_id: str) -> MediaLeg | None:
        chan = self.channels.get(channel_id)
        if chan is None or not chan.bridge or chan.bridge not in self.bridges:
            return None
        for other in self.bridges[chan.bridge].channels:
            if other != channel_id and other in self.media:
                return self.media[other]
        return None

    # ---- events ----------------------------------------------------------------------------

    async def emit(self, kind: str, **fields: Any) -> None:
        message = event(kind, self.app, **fields)
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json(message)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("app") != self.app:
            raise web.HTTPBadRequest(text='{"message": "app parameter required"}')
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        self._subscribed.set()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(ws)
            if not self._sockets:
                self._subscribed.clear()
        return ws

    async def ring(self, chan: EmuChannel, req: OriginateRequest) -> None:
        chan.state = "Ringing"
        await self.emit("ChannelStateChange", channel=chan.json())
        verdict = await self.on_originate(req) if self.on_originate else "no_answer"
        if chan.destroyed:
            return
        if verdict != "answer":
            cause, text = CAUSES.get(verdict, CAUSES["failed"])
            await self.destroy(chan, cause, text)
            return
        chan.state, chan.app = "Up", req.app
        await self.emit("ChannelStateChange", channel=chan.json())
        await self.emit("StasisStart", args=list(req.app_args), channel=chan.json())
        assert chan.leg is not None
        self.answered_legs.put_nowait(chan.leg)

    def to_caller(self, media_id: str, pcm: bytes) -> None:
        chan = self.channels.get(media_id)
        if chan is None or not chan.bridge or chan.bridge not in self.bridges:
            return
        for other in self.bridges[chan.bridge].channels:
            peer = self.channels.get(other)
            if peer is not None and peer.leg is not None:
                peer.leg.deliver(pcm)

    async def media_gone(self, media_id: str) -> None:
        """The AudioSocket closed or the IVR sent 0x00: Asterisk hangs that channel up."""
        chan = self.channels.get(media_id)
        if chan is not None and not chan.destroyed:
            await self.destroy(chan, 16, "Normal Clearing")

    def check_media_up(self, bridge: EmuBridge) -> None:
        has_media = any(c in self.media for c in bridge.channels)
        for cid in bridge.channels:
            chan = self.channels[cid]
            if chan.leg is not None and has_media:
                chan.leg.media_up.set()

    def leave_bridge(self, chan: EmuChannel) -> None:
        bridge = self.bridges.get(chan.bridge)
        if bridge is not None and chan.id in bridge.channels:
            bridge.channels.remove(chan.id)
        chan.bridge = ""

    async def destroy(self, chan: EmuChannel, cause: int, text: str) -> None:
        if chan.destroyed:
            return
        chan.destroyed = True
        self.leave_bridge(chan)
        if chan.app:
            chan.app = ""
            await self.emit("StasisEnd", channel=chan.json())
        await self.emit("ChannelDestroyed", cause=cause, cause_txt=text, channel=chan.json())
        leg = self.media.pop(chan.id, None)
        if leg is not None:
            await leg.close()
        if chan.leg is not None:
            chan.leg.ended.set()

