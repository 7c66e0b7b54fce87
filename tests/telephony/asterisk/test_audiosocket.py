"""AudioSocket golden messages (from the protocol definition) and the streaming decoder."""

from __future__ import annotations

import uuid

import pytest

from ivr.core.errors import WireError
from ivr.telephony.asterisk import audiosocket as aus

STREAM_ID = uuid.UUID("0436430c-2b02-624c-2032-570501212b57")
# The identifier message: kind 0x01, length 16 (big-endian), the UUID's 16 bytes.
UUID_MESSAGE = bytes([0x01, 0x00, 0x10, 4, 54, 67, 12, 43, 2, 98, 76, 32, 50, 87, 5, 1, 33, 43, 87])


def test_golden_messages() -> None:
    assert aus.encode_hangup() == b"\x00\x00\x00"  # "Hangup indication is 0x00 0x00 0x00"
    assert aus.encode_uuid(STREAM_ID) == UUID_MESSAGE
    assert aus.encode_dtmf("5") == b"\x03\x00\x015"
    assert aus.encode_audio(b"\x01\x00\xff\xff") == b"\x10\x00\x04\x01\x00\xff\xff"
    assert aus.encode_error(aus.AsteriskError.HANGUP) == b"\xff\x00\x01\x01"
    # 20 ms of 8 kHz slin: length 320 = 0x0140, big-endian.
    assert aus.encode_audio(bytes(320))[:3] == b"\x10\x01\x40"


def test_decoder_handles_any_split() -> None:
    stream = UUID_MESSAGE + aus.encode_audio(bytes(range(256)) * 2) + aus.encode_dtmf("#") \
        + aus.encode_hangup()
    for size in (1, 2, 3, 7, 64, len(stream)):
        decoder = aus.Decoder()
        messages = []
        for i in range(0, len(stream), size):
            messages.extend(decoder.feed(stream[i : i + size]))
        assert [m.kind for m in messages] == [aus.Kind.UUID, aus.Kind.AUDIO, aus.Kind.DTMF,
                                              aus.Kind.HANGUP]
        assert aus.parse_uuid(messages[0].payload) == STREAM_ID
        assert messages[1].payload == bytes(range(256)) * 2
        assert aus.parse_dtmf(messages[2].payload) == "#"
        assert decoder.pending == 0


def test_unknown_kinds_are_decoded_not_fatal() -> None:
    decoder = aus.Decoder()
    (msg,) = decoder.feed(b"\x42\x00\x02ab")
    assert msg == aus.Message(0x42, b"ab")


def test_partial_message_waits_for_the_rest() -> None:
    decoder = aus.Decoder()
    assert decoder.feed(b"\x10\x01\x40" + bytes(100)) == []
    assert decoder.pending == 103
    (msg,) = decoder.feed(bytes(220))
    assert len(msg.payload) == 320


@pytest.mark.parametrize("payload", [b"", b"\x00" * 15, b"\x00" * 17])
def test_bad_uuid_payload(payload: bytes) -> None:
    with pytest.raises(WireError, match="UUID"):
        aus.parse_uuid(payload)


@pytest.mark.parametrize("payload", [b"", b"12", b"x", b"\xff"])
def test_bad_dtmf_payload(payload: bytes) -> None:
    with pytest.raises(WireError, match="DTMF"):
        aus.parse_dtmf(payload)


def test_audio_payload_checks() -> None:
    assert aus.check_audio(bytes(320)) == bytes(320)
    with pytest.raises(WireError):
        aus.check_audio(bytes(3))
    with pytest.raises(WireError):
        aus.check_audio(bytes(aus.MAX_AUDIO_PAYLOAD + 2))


def test_encoder_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError, match="too long"):
        aus.encode(aus.Kind.AUDIO, bytes(70000))
    with pytest.raises(ValueError, match="even"):
        aus.encode_audio(b"\x01")
    with pytest.raises(ValueError, match="DTMF"):
        aus.encode_dtmf("x")
    with pytest.raises(ValueError, match="range"):
        aus.encode(256)


def test_decoder_stops_at_a_header_over_its_limit() -> None:
    decoder = aus.Decoder(max_payload=320)
    wire = aus.encode_audio(bytes(320)) + aus.encode_audio(bytes(322)) + aus.encode_hangup()
    assert decoder.feed(wire[:200]) == []
    assert decoder.feed(wire[200:]) == [aus.Message(aus.Kind.AUDIO, bytes(320))]
    assert decoder.too_large == 322
    assert decoder.pending == 0  # nothing of the oversized message is held
    assert decoder.feed(aus.encode_hangup()) == []
