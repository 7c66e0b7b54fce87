"""Provider wiring: which adapters run, where outbound calls go, the echo canceller per call."""

from __future__ import annotations

from ivr.audio.echo_speex import SpeexEcho
from ivr.config import load_config
from ivr.providers import build_providers, echo_factory
from ivr.telephony.asterisk.channel import WireBounds
from ivr.telephony.provider import OutboundCall
from ivr.telephony.twilio.adapter import TwilioAdapter

BASE = {"IVR_TWILIO_AUTH_TOKEN": "t"}


class _Control:
    async def transfer(self, call_id: str, target: object) -> None: ...

    async def hangup(self, call_id: str) -> None: ...

    async def originate(self, call: OutboundCall) -> str:
        return "CA1"


def _twilio() -> TwilioAdapter:
    return TwilioAdapter(public_url="http://127.0.0.1:8080", validator=None)


async def test_twilio_only() -> None:
    providers = await build_providers(load_config(env=BASE), _twilio(), None)
    assert [a.name for a in providers.adapters] == ["twilio"]
    assert providers.control is None and providers.asterisk is None


async def test_asterisk_beside_twilio() -> None:
    config = load_config(env={**BASE, "IVR_ASTERISK_ENABLED": "1",
                              "IVR_ASTERISK_ARI_PASSWORD": "p",
                              "IVR_ASTERISK_OUTBOUND_NUMBERS": "4000, 4001"})
    providers = await build_providers(config, _twilio(), _Control())
    assert [a.name for a in providers.adapters] == ["twilio", "asterisk"]
    control = providers.control
    assert control is not None
    assert control.outbound_provider(OutboundCall(to="+1", from_="4001")) == "asterisk"
    assert control.outbound_provider(OutboundCall(to="+1", from_="+1555")) == "twilio"
    assert control.provider_of("1733.1") == "twilio"  # not a call of the (unstarted) PBX


async def test_audiosocket_bounds_follow_the_media_settings() -> None:
    config = load_config(env={**BASE, "IVR_ASTERISK_ENABLED": "1",
                              "IVR_ASTERISK_ARI_PASSWORD": "p",
                              "IVR_SERVER_MAX_MEDIA_SOCKETS": "7",
                              "IVR_CALL_MAX_MESSAGES_PER_S": "90",
                              "IVR_CALL_MAX_FRAME_MS": "100",
                              "IVR_CALL_MAX_MESSAGE_BYTES": "4096"})
    providers = await build_providers(config, _twilio(), None)
    assert providers.asterisk is not None
    settings = providers.asterisk.settings
    assert settings.max_connections == 7
    assert settings.wire == WireBounds(messages_per_s=90, burst_s=config.call.media_burst_s,
                                       max_audio_bytes=1600, max_message_bytes=4096)


async def test_asterisk_alone_dials_through_the_pbx() -> None:
    config = load_config(env={**BASE, "IVR_ASTERISK_ENABLED": "1",
                              "IVR_ASTERISK_ARI_PASSWORD": "p"})
    providers = await build_providers(config, _twilio(), None)
    assert providers.control is not None
    assert providers.control.outbound_provider(OutboundCall(to="+1", from_="x")) == "asterisk"


def test_echo_factory() -> None:
    make = echo_factory(load_config(env=BASE))
    assert make is not None
    canceller, gate = make(8000)
    assert canceller is gate and isinstance(canceller, SpeexEcho)
    assert echo_factory(load_config(env={**BASE, "IVR_ECHO_ENABLED": "false"})) is None
