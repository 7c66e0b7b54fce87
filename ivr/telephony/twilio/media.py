"""Twilio Media Streams WebSocket messages ⇄ provider-neutral events.

Wire format: https://www.twilio.com/docs/voice/media-streams/websocket-messages
Inbound: connected, start, media, dtmf, mark, stop. Outbound: media, mark, clear.
The codec is stateless and is chosen by configuration, never by sniffing message shapes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from ivr.core.errors import ErrorCode, WireError
from ivr.core.events import (
    DtmfReceived,
    InboundEvent,
    MarkReceived,
    MediaReceived,
    StreamConnected,
    StreamStarted,
    StreamStopped,
)
from ivr.telephony.twilio import wire_fields as f

DTMF_DIGITS: Final = frozenset("0123456789*#ABCD")
_COMPACT: Final = (",", ":")


def _connected(msg: f.JsonObject) -> StreamConnected:
    return StreamConnected(
        protocol=f.text(msg, "protocol", "connected.protocol", required=False),
        version=f.text(msg, "version", "connected.version", required=False),
    )


def _started(msg: f.JsonObject) -> StreamStarted:
    start = f.obj(msg, "start", "start.start")
    stream_sid = f.text(start, "streamSid", "start.start.streamSid")
    outer_sid = f.text(msg, "streamSid", "start.streamSid", required=False)
    if outer_sid and outer_sid != stream_sid:
        raise f.malformed("start.streamSid", "differs from start.start.streamSid")
    media_format = f.obj(start, "mediaFormat", "start.start.mediaFormat")
    tracks: tuple[str, ...] = ("inbound",)
    if "tracks" in start:
        tracks = f.string_list(start, "tracks", "start.start.tracks")
    return StreamStarted(
        call_sid=f.text(start, "callSid", "start.start.callSid"),
        stream_sid=stream_sid,
        account_sid=f.text(start, "accountSid", "start.start.accountSid", required=False),
        tracks=tracks,
        encoding=f.text(media_format, "encoding", "start.start.mediaFormat.encoding"),
        sample_rate=f.number(media_format, "sampleRate", "start.start.mediaFormat.sampleRate"),
        channels=f.number(media_format, "channels", "start.start.mediaFormat.channels"),
        parameters=f.string_map(start, "customParameters", "start.start.customParameters"),
    )


def _media(msg: f.JsonObject) -> MediaReceived:
    media = f.obj(msg, "media", "media.media")
    return MediaReceived(
        payload=f.b64(media, "payload", "media.media.payload"),
        track=f.text(media, "track", "media.media.track", required=False) or "inbound",
        chunk=f.number(media, "chunk", "media.media.chunk", required=False),
        timestamp_ms=f.number(media, "timestamp", "media.media.timestamp", required=False),
        sequence=_sequence(msg, "media"),
    )


def _dtmf(msg: f.JsonObject) -> DtmfReceived:
    digit = f.text(f.obj(msg, "dtmf", "dtmf.dtmf"), "digit", "dtmf.dtmf.digit")
    if digit not in DTMF_DIGITS:
        raise f.malformed("dtmf.dtmf.digit", "is not one of 0-9 * # A-D")
    return DtmfReceived(digit=digit, sequence=_sequence(msg, "dtmf"))


def _mark(msg: f.JsonObject) -> MarkReceived:
    name = f.text(f.obj(msg, "mark", "mark.mark"), "name", "mark.mark.name")
    return MarkReceived(name=name, sequence=_sequence(msg, "mark"))


def _stopped(msg: f.JsonObject) -> StreamStopped:
    stop = f.opt_obj(msg, "stop", "stop.stop")
    return StreamStopped(
        call_sid=f.text(stop, "callSid", "stop.stop.callSid", required=False),
        sequence=_sequence(msg, "stop"),
    )


def _sequence(msg: f.JsonObject, event: str) -> int:
    return f.number(msg, "sequenceNumber", f"{event}.sequenceNumber", required=False)


_DECODERS: Final[Mapping[str, Callable[[f.JsonObject], InboundEvent]]] = {
    "connected": _connected,
    "start": _started,
    "media": _media,
    "dtmf": _dtmf,
    "mark": _mark,
    "stop": _stopped,
}


def decode(raw: str) -> InboundEvent:
    """Parse one Twilio text frame. Raises ``WireError`` with WIRE_MALFORMED or
    WIRE_UNKNOWN_EVENT; the message names the field, never echoes the payload."""
    try:
        msg: Any = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise f.malformed("twilio message", f"is not JSON ({len(raw)} chars)") from exc
    if not isinstance(msg, dict):
        raise f.malformed("twilio message", "must be a JSON object")
    event = f.text(msg, "event", "twilio message field 'event'")
    decoder = _DECODERS.get(event)
    if decoder is None:
        raise WireError(f"unknown twilio event {event[:40]!r}", code=ErrorCode.WIRE_UNKNOWN_EVENT)
    return decoder(msg)


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=_COMPACT, ensure_ascii=False)


def encode_media(stream_sid: str, ulaw: bytes) -> str:
    """Play raw μ-law/8000 bytes (no WAV header) on the stream."""
    payload = base64.b64encode(ulaw).decode("ascii")
    return _dump({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def encode_mark(stream_sid: str, name: str) -> str:
    """Twilio echoes a ``mark`` with this name once all earlier media has played (or cleared)."""
    return _dump({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def encode_clear(stream_sid: str) -> str:
    """Drop all buffered audio; pending marks are echoed back."""
    return _dump({"event": "clear", "streamSid": stream_sid})


class TwilioMediaCodec:
    """``MediaCodec`` for Twilio bidirectional Media Streams (``<Connect><Stream>``)."""

    def decode(self, raw: str) -> InboundEvent:
        return decode(raw)

    def media(self, stream_sid: str, ulaw: bytes) -> str:
        return encode_media(stream_sid, ulaw)

    def mark(self, stream_sid: str, name: str) -> str:
        return encode_mark(stream_sid, name)

    def clear(self, stream_sid: str) -> str:
        return encode_clear(stream_sid)
