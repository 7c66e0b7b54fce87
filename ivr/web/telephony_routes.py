"""Serves the HTTP webhooks and media WebSockets each provider adapter declares, without
knowing the provider: aiohttp requests become neutral ``HttpRequest``s, replies become
responses; a bad signature is 403, a malformed request 400, a server not yet started 503.

Media sockets are bounded here (``SocketLimits``): how many are open at once (beyond: 503
before the upgrade), the size of one message and messages per second (beyond: the socket is
closed and says why, ``TextSocket.error``, so the call fails with that code recorded)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, WSMsgType, web
from multidict import MultiDict

from ivr.call.limits import Breach, MediaBudget, MediaLimits, SocketGate
from ivr.core.errors import SignatureError, WireError
from ivr.telephony.provider import HttpReply, HttpRequest, HttpRoute, ProviderAdapter, SocketRoute

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def neutral(request: web.Request, *, form: bool) -> HttpRequest:
    fields: MultiDict[str] = MultiDict()
    if form and request.method == "POST":
        try:
            posted = await request.post()
        except (ValueError, UnicodeDecodeError) as exc:
            raise web.HTTPBadRequest(text="malformed form body\n") from exc
        fields = MultiDict((k, str(v)) for k, v in posted.items())
    return HttpRequest(request.method, request.raw_path, dict(request.query),
                       dict(request.headers), fields, request.remote or "")


def _http(route: HttpRoute) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        req = await neutral(request, form=True)
        try:
            reply: HttpReply = await route.handler(req)
        except SignatureError as exc:
            log.warning("rejected webhook %s from %s: %s", request.path, request.remote, exc)
            raise web.HTTPForbidden(text="invalid signature\n") from exc
        except WireError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from exc
        except ConnectionRefusedError as exc:
            raise web.HTTPServiceUnavailable(text="starting\n") from exc
        if reply.status == 204:
            return web.Response(status=204)
        return web.Response(status=reply.status, text=reply.body,
                            content_type=reply.content_type)

    return handle


@dataclass
class SocketLimits:
    max_sockets: int = 60
    max_message_bytes: int = 16384
    media: MediaLimits = field(default_factory=MediaLimits)
    gate: SocketGate = field(init=False)

    def __post_init__(self) -> None:
        self.gate = SocketGate(self.max_sockets)


class _WsSocket:
    """An accepted aiohttp WebSocket as a ``TextSocket``, within messages per second."""

    def __init__(self, ws: web.WebSocketResponse, limits: MediaLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ws = ws
        self._clock = clock
        self._budget = MediaBudget(limits, 0, clock())
        self.error: str | None = None

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def receive(self) -> str | bytes | None:
        msg = await self._ws.receive()
        if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            if self._budget.message(self._clock()) is not None:
                await self._fail(Breach.MESSAGE_RATE)
                return None
            return str(msg.data) if msg.type is WSMsgType.TEXT else bytes(msg.data)
        if msg.type is WSMsgType.ERROR:
            too_big = getattr(self._ws.exception(), "code", None) == WSCloseCode.MESSAGE_TOO_BIG
            log.warning("media socket error: %s", self._ws.exception())
            if too_big:
                await self._fail(Breach.MESSAGE_SIZE)
        return None

    async def _fail(self, breach: Breach) -> None:
        log.warning("media socket closed: %s", breach.value)
        self.error = breach.value
        if not self._ws.closed:
            await self._ws.close(code=WSCloseCode.POLICY_VIOLATION)

    async def send(self, text: str) -> None:
        if not self._ws.closed:
            await self._ws.send_str(text)

    async def close(self) -> None:
        if not self._ws.closed:
            await self._ws.close()


async def _serve(route: SocketRoute, socket: _WsSocket, gate: SocketGate) -> None:
    try:
        await route.serve(socket)
    except ConnectionRefusedError:
        log.warning("media socket while the IVR is not ready")
    finally:
        try:
            await socket.close()
        finally:
            gate.leave()


_LIVE: set[asyncio.Task[None]] = set()


def _socket(route: SocketRoute, limits: SocketLimits) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            route.authorize(await neutral(request, form=False))
        except SignatureError as exc:
            raise web.HTTPForbidden(text="invalid signature\n") from exc
        if not limits.gate.enter():
            log.warning("media socket refused: %d open", limits.gate.open)
            raise web.HTTPServiceUnavailable(text="too many media streams\n")
        try:
            ws = web.WebSocketResponse(max_msg_size=limits.max_message_bytes, heartbeat=30)
            await ws.prepare(request)
        except BaseException:
            limits.gate.leave()
            raise
        # The call runs in its own task: a client that vanishes cancels this handler, but
        # the call must still be ended and recorded.
        task = asyncio.create_task(_serve(route, _WsSocket(ws, limits.media), limits.gate))
        _LIVE.add(task)
        task.add_done_callback(_LIVE.discard)
        await asyncio.shield(task)
        return ws

    return handle


def setup(app: web.Application, adapters: Sequence[ProviderAdapter],
          limits: SocketLimits | None = None) -> None:
    limits = limits or SocketLimits()
    for adapter in adapters:
        for route in adapter.http_routes():
            app.router.add_route(route.method, route.path, _http(route))
        for sock in adapter.socket_routes():
            app.router.add_get(sock.path, _socket(sock, limits))
