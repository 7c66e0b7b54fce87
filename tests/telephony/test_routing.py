"""One call control over several providers: live calls to their owner, outbound calls by
caller id, text messages to whoever can send them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ivr.core.errors import ProviderApiError
from ivr.telephony.base import TransferKind, TransferTarget
from ivr.telephony.provider import OutboundCall
from ivr.telephony.routing import Route, RoutingControl


@dataclass
class Fake:
    name: str
    calls: set[str] = field(default_factory=set)
    log: list[tuple[str, str]] = field(default_factory=list)

    async def transfer(self, call_id: str, target: TransferTarget) -> None:
        self.log.append(("transfer", call_id))

    async def hangup(self, call_id: str) -> None:
        self.log.append(("hangup", call_id))

    async def originate(self, call: OutboundCall) -> str:
        self.log.append(("originate", call.from_))
        return f"{self.name}-1"


@dataclass
class FakeSms(Fake):
    async def send_sms(self, to: str, from_: str, body: str) -> str:
        self.log.append(("sms", to))
        return "SM1"


def _routing(default: str = "twilio") -> tuple[RoutingControl, Fake, FakeSms]:
    pbx = Fake("asterisk", calls={"1733.7"})
    cloud = FakeSms("twilio")
    control = RoutingControl([
        Route("asterisk", lambda: pbx, owns=lambda cid: cid in pbx.calls,
              numbers=frozenset({"4000"})),
        Route("twilio", lambda: cloud),
    ], outbound_default=default)
    return control, pbx, cloud


async def test_live_calls_go_to_their_owner() -> None:
    control, pbx, cloud = _routing()
    target = TransferTarget(TransferKind.CLIENT, "agents")
    await control.transfer("1733.7", target)
    await control.hangup("CA" + "0" * 32)
    assert pbx.log == [("transfer", "1733.7")] and cloud.log == [("hangup", "CA" + "0" * 32)]


async def test_outbound_by_caller_id_then_default() -> None:
    control, pbx, cloud = _routing()
    assert await control.originate(OutboundCall(to="+8613812345678", from_="4000")) == \
        "asterisk-1"
    assert cloud.log == []
    assert await control.originate(OutboundCall(to="+8613812345678", from_="+15550001")) == \
        "twilio-1"
    control, pbx, _cloud = _routing(default="asterisk")
    await control.originate(OutboundCall(to="+8613812345678", from_="+15550001"))
    assert pbx.log == [("originate", "+15550001")]


async def test_messages_and_missing_controls() -> None:
    control, _, _cloud = _routing()
    assert await control.send_sms("+8613812345678", "+15550001", "hi") == "SM1"
    only_pbx = RoutingControl([Route("asterisk", lambda: None, owns=lambda cid: True)],
                              outbound_default="asterisk")
    assert not only_pbx.available
    with pytest.raises(ProviderApiError, match="no call control"):
        await only_pbx.hangup("x")
    with pytest.raises(ProviderApiError, match="text messages"):
        await only_pbx.send_sms("+1", "+2", "x")
    with pytest.raises(ValueError, match="unknown outbound provider"):
        RoutingControl([], outbound_default="twilio")
