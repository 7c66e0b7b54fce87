"""The Twilio provider adapter: the voice and status webhooks (signed form POSTs), the media
WebSocket (``<Connect><Stream>``), and REST call control."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ivr.core.errors import ErrorCode, SignatureError, WireError
from ivr.telephony.provider import (
    CallControl,
    CallDirection,
    CallIdentity,
    CallSink,
    CallStatusUpdate,
    HttpReply,
    HttpRequest,
    HttpRoute,
    SocketRoute,
    TextSocket,
)
from ivr.telephony.twilio import status, twiml
from ivr.telephony.twilio.channel import TwilioMediaChannel
from ivr.telephony.twilio.control import MEDIA_PATH, STATUS_PATH, VOICE_PATH
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, TwilioSignatureValidator

log = logging.getLogger(__name__)

NAME = "twilio"
TWIML = "application/xml"


def _call_sid(value: str) -> str:
    if not value.startswith("CA"):
        raise WireError("CallSid missing or malformed", code=ErrorCode.WIRE_MALFORMED)
    return value


class TwilioAdapter:
    def __init__(self, *, public_url: str, validator: TwilioSignatureValidator | None,
                 control: CallControl | None = None) -> None:
        self._base = public_url.rstrip("/")
        self._validator = validator
        self._control = control
        self._sink: CallSink | None = None

    @property
    def name(self) -> str:
        return NAME

    @property
    def control(self) -> CallControl | None:
        return self._control

    def use_control(self, control: CallControl | None) -> None:
        """REST control, once the HTTP client exists (credentials may be missing: None)."""
        self._control = control

    def http_routes(self) -> Sequence[HttpRoute]:
        return (HttpRoute("POST", VOICE_PATH, self._voice),
                HttpRoute("POST", STATUS_PATH, self._status))

    def socket_routes(self) -> Sequence[SocketRoute]:
        return (SocketRoute(MEDIA_PATH, self._authorize_media, self._serve_media),)

    async def start(self, sink: CallSink) -> None:
        self._sink = sink

    async def close(self) -> None:
        self._sink = None

    def _sink_or_fail(self) -> CallSink:
        if self._sink is None:
            raise ConnectionRefusedError("the IVR is not ready")
        return self._sink

    # ---- webhooks ----------------------------------------------------------------------

    def _check(self, req: HttpRequest) -> None:
        if self._validator is not None:
            self._validator.validate_webhook(req.path_qs, req.form,
                                             req.headers.get(SIGNATURE_HEADER))

    async def _voice(self, req: HttpRequest) -> HttpReply:
        self._check(req)
        form = req.form
        call_sid = _call_sid(form.get("CallSid", ""))
        outbound = form.get("Direction", "").startswith("outbound")
        identity = CallIdentity(NAME, call_sid,
                                CallDirection.OUTBOUND if outbound else CallDirection.INBOUND,
                                form.get("From", ""), form.get("To", ""), dict(req.query))
        admission = await self._sink_or_fail().call_arrived(identity)
        if not admission.accepted:
            return HttpReply(200, twiml.refuse(admission.refusal_audio_url), TWIML)
        ws_base = ("wss" if self._base.startswith("https") else "ws") + \
            self._base[self._base.index(":"):]
        return HttpReply(200, twiml.connect_stream(f"{ws_base}{MEDIA_PATH}",
                                                   dict(admission.stream_params)), TWIML)

    async def _status(self, req: HttpRequest) -> HttpReply:
        self._check(req)
        form = req.form
        call_sid = _call_sid(form.get("CallSid", ""))
        raw = form.get("CallStatus", "")
        duration = form.get("CallDuration", "")
        sequence = form.get("SequenceNumber", "")
        update = CallStatusUpdate(
            call_sid, status.progress(raw), raw, status.answered_by(form.get("AnsweredBy")),
            int(duration) if duration.isdigit() else None, req.query.get("attempt_id"),
            int(sequence) if sequence.isdigit() else None)
        await self._sink_or_fail().call_status(NAME, update)
        return HttpReply(204)

    # ---- media -------------------------------------------------------------------------

    def _authorize_media(self, req: HttpRequest) -> None:
        if self._validator is not None:
            try:
                self._validator.validate_websocket(req.path_qs, req.headers.get(SIGNATURE_HEADER))
            except SignatureError:
                log.warning("rejected media socket from %s", req.remote)
                raise

    async def _serve_media(self, socket: TextSocket) -> None:
        await self._sink_or_fail().media_connected(TwilioMediaChannel(socket))
