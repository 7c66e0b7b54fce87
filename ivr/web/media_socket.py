"""The provider's media WebSocket: decode wire messages, drive the call session, send audio."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMsgType, web

from ivr.call.session import CallInfo, CallSession
from ivr.core.errors import ErrorCode, WireError
from ivr.core.events import (
    DtmfReceived,
    MarkReceived,
    MediaReceived,
    StreamConnected,
    StreamStarted,
    StreamStopped,
)
from ivr.core.types import Language
from ivr.store.records import CallEvent, CallRecord
from ivr.web.keys import SERVICES
from ivr.web.security import check_websocket
from ivr.web.services import Services

log = logging.getLogger(__name__)


class _Socket:
    """One media WebSocket; ``session`` exists after ``start``."""

    def __init__(self, services: Services, ws: web.WebSocketResponse) -> None:
        self.services = services
        self.ws = ws
        self.session: CallSession | None = None
        self.task: asyncio.Task[None] | None = None
        self.call_sid = ""
        self.pending_errors: list[tuple[str, str]] = []

    async def send(self, text: str) -> None:
        if not self.ws.closed:
            await self.ws.send_str(text)

    async def close(self) -> None:
        if not self.ws.closed:
            await self.ws.close()

    async def wire_error(self, code: str, message: str) -> None:
        self.services.metrics.wire_errors += 1
        log.warning("media socket %s: %s", self.call_sid[:10] or "(no call yet)", message)
        if not self.call_sid:
            self.pending_errors.append((code, message))
            return
        await self.services.store.increment(self.call_sid, "wire_errors")
        await self.services.store.add_event(
            CallEvent(call_sid=self.call_sid, kind="wire_error", code=code,
                      detail={"message": message[:200]})
        )

    async def start(self, event: StreamStarted) -> None:
        if self.session is not None:
            await self.wire_error(ErrorCode.WIRE_OUT_OF_ORDER, "second start on one stream")
            return
        services = self.services
        params = event.parameters
        try:
            lang = Language(params.get("lang", services.config.call.default_language))
        except ValueError:
            lang = services.config.call.default_language
        self.call_sid = event.call_sid
        await services.store.create_call(
            CallRecord(call_sid=event.call_sid, stream_sid=event.stream_sid, language=lang,
                       customer_id=params.get("customer_id") or None,
                       worker=services.config.worker_id)  # the worker holding the media
        )
        for code, message in self.pending_errors:
            await self.wire_error(code, message)
        self.pending_errors.clear()
        metadata = {k: v for k, v in params.items() if k.startswith(("customer_", "campaign_"))}
        info = CallInfo(event.call_sid, event.stream_sid, lang,
                        params.get("customer_id") or None, metadata,
                        outbound=params.get("direction") == "outbound")
        self.session = services.new_session(info, services.codec, self.send, self.close)
        services.active[event.call_sid] = self.session
        services.metrics.calls_started += 1
        self.task = asyncio.create_task(self.session.run(), name=f"session-{event.call_sid}")
        self.task.add_done_callback(lambda _t: asyncio.ensure_future(self.close()))

    async def handle(self, raw: str) -> bool:
        """Process one text message; False when the stream is over."""
        try:
            event = self.services.codec.decode(raw)
        except WireError as exc:
            await self.wire_error(exc.code.value, str(exc))
            return True
        if isinstance(event, StreamStarted):
            await self.start(event)
        elif isinstance(event, StreamStopped):
            return False
        elif isinstance(event, StreamConnected):
            pass
        elif self.session is None:
            await self.wire_error(ErrorCode.WIRE_OUT_OF_ORDER,
                                  f"{type(event).__name__} before start")
        elif isinstance(event, MediaReceived):
            if event.track in ("inbound", "inbound_track"):
                self.session.on_media(event.payload)
        elif isinstance(event, DtmfReceived):
            self.session.on_dtmf(event.digit)
        elif isinstance(event, MarkReceived):
            self.session.on_mark(event.name)
        return True


async def media(request: web.Request) -> web.WebSocketResponse:
    services = request.app[SERVICES]
    check_websocket(services, request)
    ws = web.WebSocketResponse(max_msg_size=1 << 20, heartbeat=30)
    await ws.prepare(request)
    sock = _Socket(services, ws)
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                if not await sock.handle(msg.data):
                    break
            elif msg.type is WSMsgType.BINARY:
                await sock.wire_error(ErrorCode.WIRE_MALFORMED, "binary frame on a JSON stream")
            elif msg.type is WSMsgType.ERROR:
                log.warning("media socket error: %s", ws.exception())
                break
    finally:
        if sock.session is not None:
            sock.session.caller_hung_up()
            if sock.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(sock.task)
            services.active.pop(sock.call_sid, None)
            services.metrics.calls_ended += 1
            await _report_to_campaign(services, sock.call_sid)
        await sock.close()
    return ws


async def _report_to_campaign(services: Services, call_sid: str) -> None:
    """Outbound campaign calls learn their conversation outcome (others are ignored)."""
    if services.campaigns is None or not call_sid:
        return
    record = await services.store.get_call(call_sid)
    if record is not None and record.outcome is not None:
        await services.campaigns.on_call_finished(call_sid, record.outcome.value)


def setup(app: web.Application) -> None:
    app.router.add_get("/twilio/media", media)
