"""Golden wire tests for the Twilio Media Streams codec (messages shaped as in Twilio's docs)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

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
from ivr.telephony.twilio.media import TwilioMediaCodec

GOLDEN = Path(__file__).parent / "golden"
STREAM = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA0f2c4a9e8b7d6c5b4a39281706f5e4d3"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
DOCS_PAYLOAD = bytes.fromhex("9e8f898686898e9cd2")  # base64 "no+JhoaJjpzS", Twilio's doc sample

EXPECTED_INBOUND: dict[str, InboundEvent] = {
    "connected": StreamConnected(protocol="Call", version="1.0.0"),
    "start": StreamStarted(
        call_sid=CALL,
        stream_sid=STREAM,
        account_sid=ACCOUNT,
        tracks=("inbound",),
        encoding="audio/x-mulaw",
        sample_rate=8000,
        channels=1,
        parameters={"callId": "c-20240611-0001", "language": "zh", "direction": "outbound"},
    ),
    "media_inbound": MediaReceived(
        payload=b"\xff" * 160, track="inbound", chunk=2, timestamp_ms=5, sequence=4
    ),
    "media_outbound_track": MediaReceived(
        payload=DOCS_PAYLOAD, track="outbound", chunk=1, timestamp_ms=5, sequence=3
    ),
    "dtmf": DtmfReceived(digit="1", sequence=5),
    "mark": MarkReceived(name="my label", sequence=4),
    "stop": StreamStopped(call_sid=CALL, sequence=5),
}

codec = TwilioMediaCodec()


def _golden(kind: str, name: str) -> str:
    return (GOLDEN / kind / f"{name}.json").read_text(encoding="utf-8")


def test_every_inbound_golden_file_has_an_expectation() -> None:
    names = {p.stem for p in (GOLDEN / "inbound").glob("*.json")}
    assert names == set(EXPECTED_INBOUND)


@pytest.mark.parametrize("name", sorted(EXPECTED_INBOUND))
def test_decode_golden(name: str) -> None:
    assert codec.decode(_golden("inbound", name)) == EXPECTED_INBOUND[name]


def test_decode_accepts_numbers_where_twilio_sends_numeric_strings() -> None:
    raw = json.dumps(
        {
            "event": "media",
            "sequenceNumber": 9,
            "media": {"chunk": 7, "timestamp": 140, "payload": ""},
        }
    )
    assert codec.decode(raw) == MediaReceived(
        payload=b"", track="inbound", chunk=7, timestamp_ms=140, sequence=9
    )


def test_decode_start_defaults_when_optional_parts_absent() -> None:
    raw = json.dumps(
        {
            "event": "start",
            "start": {
                "streamSid": "MZ1",
                "callSid": "CA1",
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        }
    )
    event = codec.decode(raw)
    assert isinstance(event, StreamStarted)
    assert (event.tracks, event.parameters, event.account_sid) == (("inbound",), {}, "")


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("media", codec.media(STREAM, DOCS_PAYLOAD)),
        ("mark", codec.mark(STREAM, "my label")),
        ("clear", codec.clear(STREAM)),
    ],
)
def test_encode_is_byte_identical_to_golden(name: str, encoded: str) -> None:
    assert encoded == _golden("outbound", name).rstrip("\n")


def test_encoded_key_order_follows_twilio_docs() -> None:
    def keys(raw: str) -> list[str]:
        return list(json.loads(raw))

    assert keys(codec.media(STREAM, b"\x7f")) == ["event", "streamSid", "media"]
    assert keys(codec.mark(STREAM, "m")) == ["event", "streamSid", "mark"]
    assert keys(codec.clear(STREAM)) == ["event", "streamSid"]


def test_media_payload_is_raw_mulaw_without_wav_header() -> None:
    ulaw = bytes(range(256)) * 2
    decoded = json.loads(codec.media(STREAM, ulaw))["media"]["payload"]
    assert base64.b64decode(decoded) == ulaw  # byte-for-byte; no RIFF/WAVE header added


def test_mark_name_with_unicode_round_trips() -> None:
    raw = codec.mark(STREAM, "提示-1")
    echoed = json.dumps({"event": "mark", "streamSid": STREAM, "mark": json.loads(raw)["mark"]})
    assert codec.decode(echoed) == MarkReceived(name="提示-1")


def _malformed_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((GOLDEN / "malformed.json").read_text("utf-8"))
    return cases


@pytest.mark.parametrize("case", _malformed_cases(), ids=lambda c: str(c["name"]))
def test_decode_rejects_malformed_golden(case: dict[str, Any]) -> None:
    with pytest.raises(WireError) as info:
        codec.decode(case["raw"])
    assert info.value.code == ErrorCode(case["code"])
    assert case["says"] in str(info.value)
    assert "SECRETPAYLOAD" not in str(info.value)


def test_unknown_event_name_is_truncated_in_message() -> None:
    with pytest.raises(WireError) as info:
        codec.decode(json.dumps({"event": "x" * 500}))
    assert info.value.code is ErrorCode.WIRE_UNKNOWN_EVENT
    assert len(str(info.value)) < 120


def test_malformed_error_is_chained_from_json_error() -> None:
    with pytest.raises(WireError) as info:
        codec.decode("{")
    assert isinstance(info.value.__cause__, ValueError)


def test_clear_message() -> None:
    assert codec.clear("MZ1") == '{"event":"clear","streamSid":"MZ1"}'
