"""ARI event JSON (as documented in events.json) → typed events."""

from __future__ import annotations

import json

import pytest

from ivr.core.errors import WireError
from ivr.telephony.asterisk import ari_events as ev

CHANNEL = {
    "id": "1733281234.42", "name": "PJSIP/trunk-0000002a", "state": "Ring",
    "protocol_id": "abc@pbx", "caller": {"name": "", "number": "+8613812345678"},
    "connected": {"name": "", "number": ""}, "accountcode": "",
    "dialplan": {"context": "from-trunk", "exten": "4000", "priority": 2,
                 "app_name": "Stasis", "app_data": "ivr"},
    "creationtime": "2026-12-04T10:00:00.000+0800", "language": "en",
    "channelvars": {"IVR_CALL_UUID": "c1", "EMPTY": None},
}


def _msg(kind: str, **extra: object) -> str:
    return json.dumps({"type": kind, "timestamp": "2026-12-04T10:00:00.100+0800",
                       "application": "ivr", "asterisk_id": "00:11:22:33:44:55",
                       "channel": CHANNEL, **extra})


def test_stasis_start() -> None:
    event = ev.parse_event(_msg("StasisStart", args=["outbound", "x"]))
    assert isinstance(event, ev.StasisStart)
    assert event.args == ("outbound", "x")
    ch = event.channel
    assert (ch.id, ch.state, ch.caller_number, ch.exten, ch.context) == (
        "1733281234.42", "Ring", "+8613812345678", "4000", "from-trunk")
    assert ch.variables == {"IVR_CALL_UUID": "c1"}
    assert "13812345678" not in repr(ch)


def test_channel_events() -> None:
    destroyed = ev.parse_event(_msg("ChannelDestroyed", cause=17, cause_txt="User busy"))
    assert destroyed == ev.ChannelDestroyed(destroyed.channel, 17, "User busy")  # type: ignore[union-attr]
    dtmf = ev.parse_event(_msg("ChannelDtmfReceived", digit="#", duration_ms=120))
    assert isinstance(dtmf, ev.ChannelDtmfReceived) and dtmf.digit == "#"
    assert isinstance(ev.parse_event(_msg("StasisEnd")), ev.StasisEnd)
    assert isinstance(ev.parse_event(_msg("ChannelStateChange")), ev.ChannelStateChange)
    hang = ev.parse_event(_msg("ChannelHangupRequest", cause=16, soft=False))
    assert isinstance(hang, ev.ChannelHangupRequest) and hang.cause == 16


def test_unknown_event_types_are_kept_apart() -> None:
    assert ev.parse_event(json.dumps({"type": "BridgeCreated", "bridge": {}})) == \
        ev.OtherEvent("BridgeCreated")


@pytest.mark.parametrize("raw", [
    "not json", "[]", json.dumps({"no": "type"}),
    json.dumps({"type": "StasisStart", "channel": {"name": "x"}}),
    json.dumps({"type": "ChannelDtmfReceived", "channel": CHANNEL, "digit": "12"}),
])
def test_malformed_events(raw: str) -> None:
    with pytest.raises(WireError):
        ev.parse_event(raw)
