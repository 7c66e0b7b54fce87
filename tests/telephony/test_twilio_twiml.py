"""TwiML documents built through the twilio library's VoiceResponse."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr.telephony.base import TransferKind, TransferTarget
from ivr.telephony.twilio.twiml import connect_stream, dial, refuse

HEADER = '<?xml version="1.0" encoding="UTF-8"?>'


def test_connect_stream_with_parameters_and_status_callback() -> None:
    twiml = connect_stream(
        "wss://ivr.example.com/twilio/media",
        {"callId": "c-1", "note": 'a&b<"c">'},
        "https://ivr.example.com/twilio/stream-status",
    )
    assert twiml == (
        HEADER + "<Response><Connect>"
        '<Stream statusCallback="https://ivr.example.com/twilio/stream-status" '
        'statusCallbackMethod="POST" url="wss://ivr.example.com/twilio/media">'
        '<Parameter name="callId" value="c-1" />'
        '<Parameter name="note" value="a&amp;b&lt;&quot;c&quot;&gt;" />'
        "</Stream></Connect></Response>"
    )
    stream = ET.fromstring(twiml.removeprefix(HEADER)).find("Connect/Stream")
    assert stream is not None
    assert [p.attrib["value"] for p in stream] == ["c-1", 'a&b<"c">']


def test_connect_stream_without_callback_or_parameters() -> None:
    assert connect_stream("wss://h/m", {}) == (
        HEADER + '<Response><Connect><Stream url="wss://h/m" /></Connect></Response>'
    )


def test_connect_stream_requires_websocket_url() -> None:
    with pytest.raises(ValueError):
        connect_stream("https://h/m", {})


def test_refuse_plays_apology_then_hangs_up() -> None:
    assert refuse("https://ivr.example.com/prompts/busy-zh.wav") == (
        HEADER
        + "<Response><Play>https://ivr.example.com/prompts/busy-zh.wav</Play><Hangup /></Response>"
    )


def test_refuse_without_recording_just_hangs_up() -> None:
    assert refuse(None) == HEADER + "<Response><Hangup /></Response>"


@pytest.mark.parametrize(
    ("target", "noun"),
    [
        (TransferTarget(TransferKind.PHONE, "+15551234567"), "<Number>+15551234567</Number>"),
        (
            TransferTarget(TransferKind.SIP, "sip:agent7@pbx.example.com"),
            "<Sip>sip:agent7@pbx.example.com</Sip>",
        ),
        (TransferTarget(TransferKind.CLIENT, "agent_7"), "<Client>agent_7</Client>"),
    ],
)
def test_dial_each_target_kind(target: TransferTarget, noun: str) -> None:
    twiml = dial(target, caller_id="+15550001111", timeout_s=25, action_url="https://h/dial-done")
    assert twiml == (
        HEADER + '<Response><Dial action="https://h/dial-done" callerId="+15550001111" '
        f'method="POST" timeout="25">{noun}</Dial></Response>'
    )


def test_dial_minimal() -> None:
    twiml = dial(TransferTarget(TransferKind.CLIENT, "agent_7"))
    assert (
        twiml == HEADER + '<Response><Dial timeout="30"><Client>agent_7</Client></Dial></Response>'
    )


@pytest.mark.parametrize("timeout_s", [0, 4, 601])
def test_dial_timeout_range(timeout_s: int) -> None:
    with pytest.raises(ValueError):
        dial(TransferTarget(TransferKind.CLIENT, "a"), timeout_s=timeout_s)
