"""A Twilio Media Streams WebSocket as a provider-neutral ``MediaChannel``.

Inbound μ-law 8 kHz frames become PCM16; outbound PCM16 frames become ``media`` messages on the
stream; ``clear`` drops Twilio's buffer. The IVR paces its own audio, so no marks are sent (an
echoed mark is ignored). Problems before ``start`` are kept and reported once the call is known.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.core.errors import ErrorCode, WireError
from ivr.core.events import (
    DtmfReceived,
    MarkReceived,
    MediaReceived,
    StreamConnected,
    StreamStarted,
    StreamStopped,
)
from ivr.telephony.provider import (
    AudioIn,
    DigitIn,
    MediaEvent,
    MediaStart,
    StreamEnded,
    TextSocket,
    WireProblem,
)
from ivr.telephony.twilio import media as wire

RATE = 8000
FRAME_MS = 20
# Twilio plays the media messages it is sent from a buffer, in order, and empties it on
# "clear": audio sent 200 ms ahead rides out a server stall that long without a gap, and a
# barge-in still stops at once (clear).
LEAD_MS = 200
INBOUND_TRACKS = frozenset({"inbound", "inbound_track"})


class TwilioMediaChannel:
    provider = "twilio"

    def __init__(self, socket: TextSocket) -> None:
        self._socket = socket
        self._stream_sid = ""
        self._early: list[WireProblem] = []
        self.started: StreamStarted | None = None

    async def start(self) -> MediaStart:
        while True:
            raw = await self._socket.receive()
            if raw is None:
                raise WireError("the stream closed before start", code=ErrorCode.WIRE_OUT_OF_ORDER)
            event = self._decode(raw)
            if isinstance(event, WireProblem):
                self._early.append(event)
            elif isinstance(event, StreamStarted):
                self.started = event
                self._stream_sid = event.stream_sid
                return MediaStart(event.call_sid, RATE, FRAME_MS, dict(event.parameters),
                                  LEAD_MS)
            elif isinstance(event, StreamStopped):
                raise WireError("the stream stopped before start",
                                code=ErrorCode.WIRE_OUT_OF_ORDER)
            elif not isinstance(event, StreamConnected):
                self._early.append(WireProblem(ErrorCode.WIRE_OUT_OF_ORDER.value,
                                               f"{type(event).__name__} before start"))

    async def events(self) -> AsyncIterator[MediaEvent]:
        for problem in self._early:
            yield problem
        self._early.clear()
        while True:
            raw = await self._socket.receive()
            if raw is None:
                yield StreamEnded("closed", error=self._socket.error)
                return
            event = self._decode(raw)
            if isinstance(event, WireProblem):
                yield event
            elif isinstance(event, MediaReceived):
                if event.track in INBOUND_TRACKS:
                    yield AudioIn(ulaw_to_pcm16(event.payload))
            elif isinstance(event, DtmfReceived):
                yield DigitIn(event.digit)
            elif isinstance(event, StreamStopped):
                yield StreamEnded("stop")
                return
            elif isinstance(event, StreamStarted):
                yield WireProblem(ErrorCode.WIRE_OUT_OF_ORDER.value, "second start on one stream")
            elif not isinstance(event, MarkReceived | StreamConnected):
                yield WireProblem(ErrorCode.WIRE_UNKNOWN_EVENT.value, type(event).__name__)

    @staticmethod
    def _decode(raw: str | bytes) -> object:
        if isinstance(raw, bytes):
            return WireProblem(ErrorCode.WIRE_MALFORMED.value, "binary frame on a JSON stream")
        try:
            return wire.decode(raw)
        except WireError as exc:
            return WireProblem(exc.code.value, str(exc))

    async def send_audio(self, pcm: bytes) -> None:
        if not self._socket.closed:
            await self._socket.send(wire.encode_media(self._stream_sid, pcm16_to_ulaw(pcm)))

    async def clear(self) -> None:
        if not self._socket.closed:
            await self._socket.send(wire.encode_clear(self._stream_sid))

    async def close(self) -> None:
        await self._socket.close()
