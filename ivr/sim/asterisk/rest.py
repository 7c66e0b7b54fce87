"""The ARI REST resources of the emulator, with Asterisk's status codes and messages."""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ivr.sim.asterisk.media import MediaLeg
from ivr.sim.asterisk.model import EmuBridge, EmuChannel, OriginateRequest, PhoneLeg, unique_id

if TYPE_CHECKING:
    from ivr.sim.asterisk.emulator import AsteriskEmulator


class AriRest:
    def __init__(self, emu: AsteriskEmulator) -> None:
        self.emu = emu

    @web.middleware
    async def auth(self, request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
        self.emu.requests.append((request.method, request.path))
        expected = f"{self.emu.user}:{self.emu.password}"
        header = request.headers.get("Authorization", "")
        given = request.query.get("api_key", "")
        if header.startswith("Basic "):
            with contextlib.suppress(ValueError):
                given = base64.b64decode(header[6:]).decode()
        if given != expected:
            return web.json_response({"message": "Authentication required"}, status=401)
        return await handler(request)

    def _channel(self, request: web.Request, *, stasis: bool = True) -> EmuChannel:
        chan = self.emu.channels.get(request.match_info["id"])
        if chan is None or chan.destroyed:
            raise web.HTTPNotFound(text='{"message": "Channel not found"}',
                                   content_type="application/json")
        if stasis and not chan.app:
            raise web.HTTPConflict(text='{"message": "Channel not in Stasis application"}',
                                   content_type="application/json")
        return chan

    async def answer(self, request: web.Request) -> web.Response:
        chan = self._channel(request)
        if chan.state != "Up":
            chan.state = "Up"
            await self.emu.emit("ChannelStateChange", channel=chan.json())
        return web.Response(status=204)

    async def hangup(self, request: web.Request) -> web.Response:
        chan = self._channel(request, stasis=False)
        if chan.leg is not None:
            chan.leg.ended_by = chan.leg.ended_by or "ivr"
        reason = request.query.get("reason", "normal")
        code = {"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19}.get(reason)
        if code is None:
            raise web.HTTPBadRequest(text='{"message": "Invalid reason for hangup provided"}',
                                     content_type="application/json")
        await self.emu.destroy(chan, code, "Normal Clearing")
        return web.Response(status=204)

    async def continue_in_dialplan(self, request: web.Request) -> web.Response:
        chan = self._channel(request)
        self.emu.leave_bridge(chan)
        context = request.query.get("context", chan.context)
        extension = request.query.get("extension", chan.exten)
        chan.app = ""
        await self.emu.emit("StasisEnd", channel=chan.json())
        if chan.leg is not None:
            chan.leg.transferred_to = (context, extension)
            chan.leg.ended_by = chan.leg.ended_by or "transfer"
            chan.leg.ended.set()
        return web.Response(status=204)

    async def originate(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        q = {**request.query, **{k: str(v) for k, v in body.items() if k != "variables"}}
        cid = request.match_info.get("id") or q.get("channelId") or unique_id()
        if not q.get("endpoint") or not q.get("app"):
            raise web.HTTPBadRequest(text='{"message": "endpoint and app are required"}',
                                     content_type="application/json")
        if cid in self.emu.channels:
            raise web.HTTPConflict(text='{"message": "Channel with given unique ID already '
                                        'exists"}', content_type="application/json")
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            raise web.HTTPBadRequest(text='{"message": "variables must be an object"}',
                                     content_type="application/json")
        req = OriginateRequest(cid, q["endpoint"], q["app"],
                               tuple(a for a in q.get("appArgs", "").split(",") if a),
                               q.get("callerId", ""), {str(k): str(v)
                                                       for k, v in variables.items()})
        self.emu.originated.append(req)
        leg = PhoneLeg(cid)
        chan = EmuChannel(cid, f"PJSIP/trunk-{len(self.emu.channels):08x}",
                          caller_number=req.caller_id, exten=q["endpoint"],
                          variables=req.variables, leg=leg)
        self.emu.channels[cid] = chan
        self.emu.spawn(self.emu.ring(chan, req))
        return web.json_response(chan.json())

    async def external_media(self, request: web.Request) -> web.Response:
        q = request.query
        problems = [name for name, want in (("encapsulation", "audiosocket"),
                                            ("transport", "tcp"), ("format", "slin"))
                    if q.get(name) != want]
        host, _, port = q.get("external_host", "").rpartition(":")
        try:
            stream_id = uuid.UUID(q.get("data", ""))
        except ValueError:
            problems.append("data (a UUID)")
        if problems or not q.get("app") or not host or not port.isdigit():
            raise web.HTTPBadRequest(text=f'{{"message": "Invalid parameters: {problems}"}}',
                                     content_type="application/json")
        cid = q.get("channelId") or unique_id()
        chan = EmuChannel(cid, f"AudioSocket/{host}:{port}-{len(self.emu.channels):08x}",
                          state="Up", app=q["app"], stream_id=str(stream_id))
        self.emu.channels[cid] = chan
        leg = MediaLeg(stream_id, lambda pcm: self.emu.to_caller(cid, pcm),
                       lambda: self.emu.spawn(self.emu.media_gone(cid)))
        try:
            await leg.connect(host, int(port))
        except (OSError, TimeoutError) as exc:
            chan.destroyed = True
            raise web.HTTPInternalServerError(
                text=f'{{"message": "Failed to create channel: {exc}"}}',
                content_type="application/json") from exc
        self.emu.media[cid] = leg
        await self.emu.emit("StasisStart", args=[str(stream_id)], channel=chan.json())
        return web.json_response(chan.json())

    async def create_bridge(self, request: web.Request) -> web.Response:
        bid = request.match_info.get("id") or request.query.get("bridgeId") or unique_id()
        if request.query.get("type", "mixing") not in ("mixing", "mixing,dtmf_events"):
            raise web.HTTPBadRequest(text='{"message": "unsupported bridge type"}',
                                     content_type="application/json")
        bridge = self.emu.bridges.setdefault(bid, EmuBridge(bid))
        return web.json_response(bridge.json())

    async def add_channel(self, request: web.Request) -> web.Response:
        bridge = self.emu.bridges.get(request.match_info["id"])
        if bridge is None:
            raise web.HTTPNotFound(text='{"message": "Bridge not found"}',
                                   content_type="application/json")
        ids = [c for c in request.query.get("channel", "").split(",") if c]
        chans = [self.emu.channels.get(c) for c in ids]
        if not ids or any(c is None or c.destroyed for c in chans):
            raise web.HTTPBadRequest(text='{"message": "Channel not found"}',
                                     content_type="application/json")
        for chan in chans:
            assert chan is not None
            if not chan.app:
                raise web.HTTPUnprocessableEntity(
                    text='{"message": "Channel not in Stasis application"}',
                    content_type="application/json")
            self.emu.leave_bridge(chan)
            chan.bridge = bridge.id
            bridge.channels.append(chan.id)
        self.emu.check_media_up(bridge)
        return web.Response(status=204)

    async def destroy_bridge(self, request: web.Request) -> web.Response:
        bridge = self.emu.bridges.pop(request.match_info["id"], None)
        if bridge is None:
            raise web.HTTPNotFound(text='{"message": "Bridge not found"}',
                                   content_type="application/json")
        for cid in bridge.channels:
            if cid in self.emu.channels:
                self.emu.channels[cid].bridge = ""
        return web.Response(status=204)


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text='{"message": "body is not JSON"}',
                                 content_type="application/json") from exc
    return data if isinstance(data, dict) else {}
