"""The Asterisk adapter against the emulator: ARI over HTTP/WebSocket and AudioSocket over TCP
on loopback, with a recording fake of the IVR's call sink."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from ivr.sim.asterisk import AsteriskEmulator, OriginateRequest, PhoneLeg
from ivr.telephony.asterisk.adapter import AsteriskAdapter
from ivr.telephony.asterisk.control import AsteriskSettings
from ivr.telephony.base import TransferKind, TransferTarget
from ivr.telephony.provider import (
    Admission,
    AudioIn,
    CallDirection,
    CallIdentity,
    CallProgress,
    CallStatusUpdate,
    DigitIn,
    MediaChannel,
    MediaEvent,
    OutboundCall,
    StreamEnded,
)


@dataclass
class Sink:
    """Stands in for the IVR: accepts calls, echoes audio, records what it saw."""

    accept: bool = True
    arrivals: list[CallIdentity] = field(default_factory=list)
    statuses: list[CallStatusUpdate] = field(default_factory=list)
    events: dict[str, list[MediaEvent]] = field(default_factory=dict)
    channels: dict[str, MediaChannel] = field(default_factory=dict)
    on_digit: Callable[[str, str], asyncio.Future[None] | None] | None = None
    hang_up_on: str = ""  # a digit after which the IVR ends the call
    done: dict[str, asyncio.Event] = field(default_factory=dict)

    async def call_arrived(self, identity: CallIdentity) -> Admission:
        self.arrivals.append(identity)
        if not self.accept:
            return Admission(False, "zh", refusal_reason="capacity")
        return Admission(True, "zh", stream_params={"token": "t"})

    async def call_status(self, provider: str, update: CallStatusUpdate) -> None:
        assert provider == "asterisk"
        self.statuses.append(update)

    async def media_connected(self, channel: MediaChannel) -> None:
        start = await channel.start()
        self.channels[start.call_id] = channel
        seen = self.events.setdefault(start.call_id, [])
        done = self.done.setdefault(start.call_id, asyncio.Event())
        try:
            async for event in channel.events():
                seen.append(event)
                if isinstance(event, AudioIn):
                    await channel.send_audio(event.pcm)  # the bot "answers" with an echo
                if isinstance(event, DigitIn) and event.digit == self.hang_up_on:
                    return
        finally:
            done.set()


@dataclass
class Env:
    emu: AsteriskEmulator
    adapter: AsteriskAdapter
    sink: Sink


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    emu = AsteriskEmulator(user="ivr", password="pw")
    url = await emu.start()
    settings = AsteriskSettings(ari_url=url, ari_user="ivr", ari_password="pw",
                                audiosocket_port=0, advertise="", peers=("127.0.0.1",))
    adapter = AsteriskAdapter(settings)
    sink = Sink()
    await adapter.start(sink)
    await emu.wait_subscribed()
    yield Env(emu, adapter, sink)
    await adapter.close()
    await emu.close()


async def _connected(env: Env, leg: PhoneLeg) -> None:
    await asyncio.wait_for(leg.media_up.wait(), 5)


async def _until(cond: Callable[[], bool], limit_s: float = 5.0) -> None:
    async def poll() -> None:
        while not cond():  # noqa: ASYNC110 - test polling
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), limit_s)


async def test_inbound_call_audio_digits_and_caller_hangup(env: Env) -> None:
    heard = bytearray()
    leg = await env.emu.incoming_call("+8613812345678", "4000",
                                      ["lang=zh", "customer_id=c1", "evil=1"])
    leg.listener = heard.extend
    await _connected(env, leg)
    (arrival,) = env.sink.arrivals
    assert arrival.provider == "asterisk" and arrival.call_id == leg.channel_id
    assert arrival.direction is CallDirection.INBOUND
    assert (arrival.from_number, arrival.to_number) == ("+8613812345678", "4000")
    assert dict(arrival.params) == {"lang": "zh", "customer_id": "c1"}
    assert env.emu.channels[leg.channel_id].state == "Up"
    for _ in range(5):
        await env.emu.send_audio(leg, b"\x10\x00" * 160)
    await _until(lambda: len(heard) == 5 * 320)  # the sink's echo came back over AudioSocket
    await env.emu.press(leg, "5")  # Asterisk reports it over ARI and over AudioSocket
    events = env.sink.events[leg.channel_id]
    await _until(lambda: DigitIn("5") in events)
    await env.emu.hang_up(leg)
    await asyncio.wait_for(env.sink.done[leg.channel_id].wait(), 5)
    assert events.count(DigitIn("5")) == 1
    assert isinstance(events[-1], StreamEnded)
    await _until(lambda: not env.emu.bridges and not env.emu.media)  # released


async def test_the_ivr_ending_the_call_hangs_the_caller_up(env: Env) -> None:
    env.sink.hang_up_on = "#"
    leg = await env.emu.incoming_call("+8613812345678", "4000")
    await _connected(env, leg)
    await env.emu.press(leg, "#")
    await asyncio.wait_for(leg.ended.wait(), 5)
    assert leg.ended_by == "ivr"
    await _until(lambda: not env.emu.bridges and not env.emu.media)


async def test_a_refused_call_continues_in_the_dialplan(env: Env) -> None:
    env.sink.accept = False
    leg = await env.emu.incoming_call("+8613812345678", "4000")
    await asyncio.wait_for(leg.ended.wait(), 5)
    assert leg.transferred_to == ("from-trunk", "4000")
    assert not leg.media_up.is_set() and not env.emu.media


async def test_transfer_to_an_agent(env: Env) -> None:
    leg = await env.emu.incoming_call("+8613812345678", "4000")
    await _connected(env, leg)
    control = env.adapter.control
    assert control is not None
    await control.transfer(leg.channel_id, TransferTarget(TransferKind.SIP, "sip:6001@pbx"))
    await asyncio.wait_for(env.sink.done[leg.channel_id].wait(), 5)
    assert leg.transferred_to == ("ivr-agents", "6001")
    assert leg.ended_by == "transfer"  # not hung up
    assert not env.emu.channels[leg.channel_id].destroyed
    await _until(lambda: not env.emu.media)


async def test_outbound_call_answered(env: Env) -> None:
    async def callee(req: OriginateRequest) -> str:
        return "answer"

    env.emu.on_originate = callee
    control = env.adapter.control
    assert control is not None
    call_id = await control.originate(OutboundCall(
        to="+8613812345678", from_="4000",
        params={"customer_id": "c1", "attempt_id": "a1", "campaign_id": "k"}))
    leg = await asyncio.wait_for(env.emu.answered_legs.get(), 5)
    assert leg.channel_id == call_id
    (req,) = env.emu.originated
    assert req.endpoint == "PJSIP/8613812345678@trunk" and req.app_args == ("outbound",)
    assert req.variables == {"IVR_CALL_UUID": call_id, "IVR_CUSTOMER_ID": "c1",
                             "IVR_ATTEMPT_ID": "a1", "IVR_CAMPAIGN_ID": "k"}
    await _connected(env, leg)
    (arrival,) = env.sink.arrivals
    assert arrival.direction is CallDirection.OUTBOUND
    assert dict(arrival.params) == {"customer_id": "c1", "attempt_id": "a1", "campaign_id": "k"}
    await env.emu.hang_up(leg)
    await _until(lambda: any(s.progress is CallProgress.COMPLETED for s in env.sink.statuses))
    progress = [s.progress for s in env.sink.statuses]
    assert progress == [CallProgress.RINGING, CallProgress.ANSWERED, CallProgress.COMPLETED]
    assert {s.attempt_id for s in env.sink.statuses} == {"a1"}


@pytest.mark.parametrize(("verdict", "progress"), [("busy", CallProgress.BUSY),
                                                   ("no_answer", CallProgress.NO_ANSWER),
                                                   ("failed", CallProgress.FAILED)])
async def test_outbound_call_not_answered(env: Env, verdict: str,
                                          progress: CallProgress) -> None:
    async def callee(req: OriginateRequest) -> str:
        return verdict

    env.emu.on_originate = callee
    control = env.adapter.control
    assert control is not None
    await control.originate(OutboundCall(to="+8613812345678", from_="4000",
                                         params={"attempt_id": "a2"}))
    await _until(lambda: len(env.sink.statuses) == 2)
    assert [s.progress for s in env.sink.statuses] == [CallProgress.RINGING, progress]
    assert not env.sink.arrivals


async def test_events_reconnect_after_asterisk_drops_them(env: Env) -> None:
    events = env.adapter.events
    assert events is not None and events.connects == 1
    for ws in list(env.emu._sockets):
        await ws.close()
    await _until(lambda: events.connects == 2)
    leg = await env.emu.incoming_call("+8613812345678", "4000")
    await _connected(env, leg)
