"""The AudioSocket wire format (Asterisk's ``res_audiosocket``), pure encode/decode.

Every message is a 3-byte header — kind (1 byte) and payload length (2 bytes, big-endian) — and
the payload. Kinds: 0x00 hang up (no payload), 0x01 the stream's UUID (16 bytes, binary; always
the first message from Asterisk), 0x03 a DTMF digit (1 ASCII byte; Asterisk 20.13/21.8/22.3 and
later), 0x10 audio (signed linear 16-bit little-endian mono at 8 kHz), 0xff an error (optional
1-byte code). Asterisk accepts only audio and hang-up from the server."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum

from ivr.core.errors import ErrorCode, WireError

HEADER = struct.Struct(">BH")
HEADER_BYTES = HEADER.size
SLIN_RATE = 8000
MAX_PAYLOAD = 0xFFFF
# Audio larger than this in one message is refused (20 ms of slin at 8 kHz is 320 bytes;
# Asterisk never sends more than a few frames' worth).
MAX_AUDIO_PAYLOAD = 8192
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


class AsteriskError(IntEnum):
    """Error codes Asterisk puts in a 0xff message."""

    NONE = 0x00
    HANGUP = 0x01  # the calling party hung up
    FRAME_FORWARDING = 0x02
    MEMORY = 0x04


@dataclass(frozen=True, slots=True)
class Message:
    kind: int  # a ``Kind`` value, or an unknown byte (reported, never fatal)
    payload: bytes = b""


def encode(kind: int, payload: bytes = b"") -> bytes:
    if not 0 <= kind <= 0xFF:
        raise ValueError(f"AudioSocket kind {kind} out of range")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"AudioSocket payload of {len(payload)} bytes is too long")
    return HEADER.pack(kind, len(payload)) + payload


def encode_audio(pcm: bytes) -> bytes:
    if len(pcm) % 2:
        raise ValueError("slin audio must have an even number of bytes")
    return encode(Kind.AUDIO, pcm)


def encode_hangup() -> bytes:
    return encode(Kind.HANGUP)


def encode_uuid(stream_id: uuid.UUID) -> bytes:
    return encode(Kind.UUID, stream_id.bytes)


def encode_dtmf(digit: str) -> bytes:
    if digit not in DTMF_DIGITS or len(digit) != 1:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return encode(Kind.DTMF, digit.encode("ascii"))


def encode_error(code: int = AsteriskError.NONE) -> bytes:
    return encode(Kind.ERROR, bytes([code]))


def parse_uuid(payload: bytes) -> uuid.UUID:
    if len(payload) != 16:
        raise WireError(f"AudioSocket UUID payload has {len(payload)} bytes, expected 16",
                        code=ErrorCode.WIRE_MALFORMED)
    return uuid.UUID(bytes=payload)


def parse_dtmf(payload: bytes) -> str:
    digit = payload.decode("ascii", errors="replace")
    if len(payload) != 1 or digit not in DTMF_DIGITS:
        raise WireError(f"AudioSocket DTMF payload {payload!r} is not one digit",
                        code=ErrorCode.WIRE_MALFORMED)
    return digit


def check_audio(payload: bytes) -> bytes:
    if len(payload) % 2 or len(payload) > MAX_AUDIO_PAYLOAD:
        raise WireError(f"AudioSocket audio payload of {len(payload)} bytes",
                        code=ErrorCode.WIRE_MALFORMED)
    return payload


class Decoder:
    """Incremental decoder: feed bytes as they arrive, get whole messages back. A header that
    announces more than ``max_payload`` bytes stops decoding: ``too_large`` is set to that length
    and nothing of the message (or after it) is buffered or returned."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self._buf = bytearray()
        self._max = max_payload
        self.too_large = 0

    def feed(self, data: bytes) -> list[Message]:
        if self.too_large:
            return []
        self._buf.extend(data)
        out: list[Message] = []
        while len(self._buf) >= HEADER_BYTES:
            kind, length = HEADER.unpack_from(self._buf)
            if length > self._max:
                self.too_large = length
                self._buf.clear()
                break
            if len(self._buf) < HEADER_BYTES + length:
                break
            payload = bytes(self._buf[HEADER_BYTES : HEADER_BYTES + length])
            del self._buf[: HEADER_BYTES + length]
            out.append(Message(kind, payload))
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message still buffered."""
        return len(self._buf)
