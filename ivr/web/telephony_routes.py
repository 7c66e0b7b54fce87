"""Serves the HTTP webhooks and media WebSockets each provider adapter declares, without
knowing the provider: aiohttp requests become neutral ``HttpRequest``s, replies become
responses; a bad signature is 403, a malformed request 400, a server not yet started 503."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import WSMsgType, web
from multidict import MultiDict

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


class _WsSocket:
    """An accepted aiohttp WebSocket as a ``TextSocket``."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def receive(self) -> str | bytes | None:
        msg = await self._ws.receive()
        if msg.type is WSMsgType.TEXT:
            return str(msg.data)
        if msg.type is WSMsgType.BINARY:
            return bytes(msg.data)
        if msg.type is WSMsgType.ERROR:
            log.warning("media socket error: %s", self._ws.exception())
        return None

    async def send(self, text: str) -> None:
        if not self._ws.closed:
            await self._ws.send_str(text)

    async def close(self) -> None:
        if not self._ws.closed:
            await self._ws.close()


def _socket(route: SocketRoute) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            route.authorize(await neutral(request, form=False))
        except SignatureError as exc:
            raise web.HTTPForbidden(text="invalid signature\n") from exc
        ws = web.WebSocketResponse(max_msg_size=1 << 20, heartbeat=30)
        await ws.prepare(request)
        socket = _WsSocket(ws)
        try:
            await route.serve(socket)
        except ConnectionRefusedError:
            log.warning("media socket while the IVR is not ready")
        finally:
            await socket.close()
        return ws

    return handle


def setup(app: web.Application, adapters: Sequence[ProviderAdapter]) -> None:
    for adapter in adapters:
        for route in adapter.http_routes():
            app.router.add_route(route.method, route.path, _http(route))
        for sock in adapter.socket_routes():
            app.router.add_get(sock.path, _socket(sock))
