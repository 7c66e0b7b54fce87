"""The provider's media WebSocket: admit the stream, decode wire messages within the per-call
bounds, drive the call session, send audio.

Who may open it: the provider (signed upgrade), and only for a call whose signed voice webhook
issued the ticket the ``start`` message carries (``ivr.web.stream_admission``). Bounds per socket
(``ivr.web.media_limits``): message size (WebSocket ``max_msg_size``), messages and audio bytes
per second, audio bytes per message, a deadline for ``start``; malformed messages cost at most a
few event records. A breach closes the call with the error recorded; other calls never notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiohttp import WSCloseCode, WSMsgType, web

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
from ivr.core.types import CallOutcome
from ivr.store.records import CallRecord
from ivr.web.keys import SERVICES
from ivr.web.media_errors import ErrorRecords
from ivr.web.media_limits import Breach, MediaBudget, limits_from
from ivr.web.security import check_websocket
from ivr.web.services import Services
from ivr.web.stream_admission import Refusal, admit, record_refusal, report_to_campaign

log = logging.getLogger(__name__)
INBOUND_TRACKS = ("inbound", "inbound_track")


class _Socket:
    """One media WebSocket; ``session`` exists after an admitted ``start``."""

    def __init__(self, services: Services, ws: web.WebSocketResponse,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.services = services
        self.ws = ws
        self.clock = clock
        self.budget = MediaBudget(limits_from(services.config.call), clock())
        self.session: CallSession | None = None
        self.task: asyncio.Task[None] | None = None
        self.call_sid = ""
        self.errors = ErrorRecords(services.store)

    async def send(self, text: str) -> None:
        if not self.ws.closed:
            await self.ws.send_str(text)

    async def close(self, code: int = WSCloseCode.OK) -> None:
        if not self.ws.closed:
            await self.ws.close(code=code)

    # ---- the receive loop --------------------------------------------------------------

    async def serve(self) -> None:
        deadline = self.clock() + self.services.config.server.stream_start_timeout_s
        while not self.ws.closed:
            timeout = None if self.session is not None else max(0.0, deadline - self.clock())
            try:
                msg = await self.ws.receive(timeout=timeout)
            except TimeoutError:
                await self.breach(Breach.START_TIMEOUT, "no valid start in time")
                return
            if msg.type is WSMsgType.TEXT:
                breach = self.budget.message(self.clock())
                if breach is not None:
                    await self.breach(breach, "too many messages per second")
                    return
                if not await self.handle(msg.data):
                    return
            elif msg.type is WSMsgType.BINARY:
                if not await self.wire_error(ErrorCode.WIRE_MALFORMED,
                                             "binary frame on a JSON stream"):
                    return
            elif msg.type is WSMsgType.ERROR:
                too_big = getattr(self.ws.exception(), "code", None) == \
                    WSCloseCode.MESSAGE_TOO_BIG
                await self.breach(Breach.MESSAGE_SIZE if too_big else Breach.WIRE_ERRORS,
                                  f"socket error: {type(self.ws.exception()).__name__}")
                return
            else:  # CLOSE, CLOSING, CLOSED
                return

    async def handle(self, raw: str) -> bool:
        """Process one text message; False when the stream is over."""
        try:
            event = self.services.codec.decode(raw)
        except WireError as exc:
            return await self.wire_error(exc.code.value, str(exc))
        if isinstance(event, StreamStarted):
            return await self.start(event)
        if isinstance(event, StreamStopped):
            return False
        if isinstance(event, StreamConnected):
            return True
        if self.session is None:
            return await self.wire_error(ErrorCode.WIRE_OUT_OF_ORDER,
                                         f"{type(event).__name__} before start")
        if isinstance(event, MediaReceived):
            if event.track in INBOUND_TRACKS:
                breach = self.budget.audio(len(event.payload), self.clock())
                if breach is not None:
                    await self.breach(breach, f"{len(event.payload)} bytes of audio refused")
                    return False
                self.session.on_media(event.payload)
        elif isinstance(event, DtmfReceived):
            if not self.budget.dtmf(self.clock()):
                return await self.wire_error(ErrorCode.WIRE_MALFORMED, "keypad digits too fast")
            self.session.on_dtmf(event.digit)
        elif isinstance(event, MarkReceived):
            self.session.on_mark(event.name)
        return True

    # ---- start -------------------------------------------------------------------------

    async def start(self, event: StreamStarted) -> bool:
        if self.session is not None:
            return await self.wire_error(ErrorCode.WIRE_OUT_OF_ORDER, "second start on one stream")
        services = self.services
        try:
            context = admit(services, event)
        except Refusal as refusal:
            services.metrics.streams_refused += 1
            if refusal.recorded:
                with contextlib.suppress(Exception):
                    await record_refusal(services, event.call_sid, refusal.code)
            await self.close(WSCloseCode.TRY_AGAIN_LATER if refusal.capacity
                             else WSCloseCode.POLICY_VIOLATION)
            return False
        self.call_sid = event.call_sid
        await services.store.create_call(CallRecord(
            call_sid=event.call_sid, stream_sid=event.stream_sid, language=context.language,
            customer_id=context.customer_id))
        await self.errors.attach(event.call_sid)
        info = CallInfo(event.call_sid, event.stream_sid, context.language,
                        context.customer_id, dict(context.metadata), outbound=context.outbound)
        self.session = services.new_session(info, services.codec, self.send, self.close)
        services.active[event.call_sid] = self.session
        services.metrics.calls_started += 1
        self.task = asyncio.create_task(self.session.run(), name=f"session-{event.call_sid}")
        self.task.add_done_callback(lambda _t: asyncio.ensure_future(self.close()))
        return True

    # ---- errors ------------------------------------------------------------------------

    async def wire_error(self, code: str, message: str) -> bool:
        """Count a malformed message (a record for the first few); False: too many."""
        self.services.metrics.wire_errors += 1
        record, breach = self.budget.wire_error()
        if record:
            log.warning("media socket %s: %s", self.call_sid[:10] or "(no call yet)", message)
            await self.errors.wire_error(code, message)
        if breach is not None:
            await self.breach(breach, f"{self.budget.wire_errors} malformed messages")
            return False
        return True

    async def breach(self, breach: Breach, message: str) -> None:
        """A bound was exceeded: record it on the call (if there is one) and close."""
        self.services.metrics.media_breaches += 1
        log.warning("media socket %s closed: %s (%s)", self.call_sid[:10] or "(no call yet)",
                    breach.value, message)
        if self.session is not None:
            self.session.outcome = self.session.outcome or CallOutcome.FAILED
            await self.errors.breach(breach.value, message)
        await self.close(WSCloseCode.POLICY_VIOLATION)

    async def finish(self) -> None:
        """The stream is over: end the session, keep the error count, report to campaigns."""
        services = self.services
        if self.session is not None:
            self.session.caller_hung_up()
            if self.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(self.task)
            services.active.pop(self.call_sid, None)
            services.metrics.calls_ended += 1
            await self.errors.totals(self.budget.wire_errors)
            await report_to_campaign(services, self.call_sid)
        await self.close()


async def media(request: web.Request) -> web.WebSocketResponse:
    services = request.app[SERVICES]
    check_websocket(services, request)
    if not services.media_gate.enter():
        log.warning("media socket refused: %d sockets open", services.media_gate.open)
        raise web.HTTPServiceUnavailable(text="too many media streams\n")
    try:
        ws = web.WebSocketResponse(max_msg_size=services.config.call.max_message_bytes,
                                   heartbeat=30)
        await ws.prepare(request)
    except BaseException:
        services.media_gate.leave()
        raise
    # The socket's life runs in its own task: a client that vanishes cancels the handler,
    # but the call must still be ended and recorded.
    task = asyncio.create_task(_lifetime(_Socket(services, ws)))
    _LIVE.add(task)
    task.add_done_callback(_LIVE.discard)
    await asyncio.shield(task)
    return ws


_LIVE: set[asyncio.Task[None]] = set()


async def _lifetime(sock: _Socket) -> None:
    try:
        await sock.serve()
    finally:
        try:
            await sock.finish()
        finally:
            sock.services.media_gate.leave()


def setup(app: web.Application) -> None:
    app.router.add_get("/twilio/media", media)
