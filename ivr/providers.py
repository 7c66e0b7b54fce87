"""Part of the app's wiring: the telephony providers selected by configuration and one routing
call control over them (``ivr.telephony.routing``), plus the per-call echo canceller/gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ivr.audio.echo import BargeInGate, EchoCanceller
from ivr.audio.echo_speex import EchoSettings, speex_echo_pair
from ivr.config import Config
from ivr.telephony.asterisk.adapter import NAME as ASTERISK
from ivr.telephony.asterisk.adapter import AsteriskAdapter
from ivr.telephony.asterisk.channel import WireBounds
from ivr.telephony.asterisk.settings import settings_from_config
from ivr.telephony.provider import CallControl, ProviderAdapter
from ivr.telephony.routing import Route, RoutingControl

EchoFactory = Callable[[int], tuple[EchoCanceller, BargeInGate]]


@dataclass
class Providers:
    adapters: list[ProviderAdapter]
    control: RoutingControl | None  # None: no provider can control or place calls
    asterisk: AsteriskAdapter | None = None


def _numbers(text: str) -> frozenset[str]:
    return frozenset(n.strip() for n in text.split(",") if n.strip())


async def build_providers(config: Config, twilio: ProviderAdapter,
                          twilio_control: CallControl | None) -> Providers:
    adapters: list[ProviderAdapter] = [twilio]
    routes: list[Route] = []
    asterisk = None
    if config.asterisk.enabled:
        settings = await settings_from_config(config.asterisk)
        settings = replace(settings, max_connections=config.server.max_media_sockets,
                           wire=wire_bounds(config))
        asterisk = AsteriskAdapter(settings)
        adapters.append(asterisk)
        adapter = asterisk
        routes.append(Route(ASTERISK, lambda: adapter.control,
                            owns=lambda cid: adapter.control is not None
                            and adapter.control.owns(cid),
                            numbers=_numbers(config.asterisk.outbound_numbers)))
    if twilio_control is not None:
        routes.append(Route(twilio.name, lambda: twilio_control))
    if not routes:
        return Providers(adapters, None, asterisk)
    default = ASTERISK if asterisk is not None and (
        config.asterisk.outbound_default or twilio_control is None) else twilio.name
    return Providers(adapters, RoutingControl(routes, outbound_default=default), asterisk)


def wire_bounds(config: Config) -> WireBounds:
    """The AudioSocket twin of the media sockets' bounds (``[call]`` settings)."""
    call = config.call
    return WireBounds(messages_per_s=call.max_messages_per_s, burst_s=call.media_burst_s,
                      max_audio_bytes=8000 * 2 * call.max_frame_ms // 1000,
                      max_message_bytes=call.max_message_bytes)


def echo_factory(config: Config) -> EchoFactory | None:
    """The speexdsp canceller + barge-in gate per call, or None (pass-through) when off."""
    e = config.echo
    if not e.enabled:
        return None
    return speex_echo_pair(EchoSettings(tail_ms=e.tail_ms, gate_tail_ms=e.gate_tail_ms,
                                        margin_db=e.margin_db,
                                        hangover_ms=e.hangover_ms,
                                        residual_suppression=e.residual_suppression,
                                        suppress_echo=e.suppress_echo))
