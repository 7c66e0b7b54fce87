"""TwiML documents, built with the ``twilio`` library's ``VoiceResponse`` (it escapes for us)."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.twiml.voice_response import VoiceResponse

from ivr.telephony.base import TransferKind, TransferTarget


def connect_stream(
    ws_url: str, parameters: Mapping[str, str], status_callback_url: str | None = None
) -> str:
    """``<Connect><Stream url=…>`` (bidirectional) with one ``<Parameter>`` per entry.

    Parameters come back in the ``start`` message's ``customParameters``.
    """
    if not ws_url.startswith(("wss://", "ws://")):
        raise ValueError("stream url must be a ws:// or wss:// URL")
    response = VoiceResponse()
    connect = response.connect()
    if status_callback_url:
        stream = connect.stream(
            url=ws_url, status_callback=status_callback_url, status_callback_method="POST"
        )
    else:
        stream = connect.stream(url=ws_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    return str(response)


def refuse(play_url: str | None = None) -> str:
    """Play a pre-rendered apology (if given) and hang up — for overload or a failed check."""
    response = VoiceResponse()
    if play_url:
        response.play(play_url)
    response.hangup()
    return str(response)


def say_and_hang_up(text: str, language: str) -> str:
    """``<Say>`` a short message (a voicemail) in ``language`` ("zh-CN", "en-US"), then hang up."""
    response = VoiceResponse()
    response.say(text, language=language)
    response.hangup()
    return str(response)


def dial(
    target: TransferTarget,
    caller_id: str | None = None,
    timeout_s: int = 30,
    action_url: str | None = None,
) -> str:
    """``<Dial>`` the target; Twilio requests ``action_url`` (POST) when the dial leg ends."""
    if not 5 <= timeout_s <= 600:
        raise ValueError("dial timeout must be 5..600 seconds")
    response = VoiceResponse()
    options: dict[str, object] = {"timeout": timeout_s}
    if caller_id:
        options["caller_id"] = caller_id
    if action_url:
        options["action"] = action_url
        options["method"] = "POST"
    leg = response.dial(**options)
    if target.kind is TransferKind.PHONE:
        leg.number(target.address)
    elif target.kind is TransferKind.SIP:
        leg.sip(target.address)
    else:
        leg.client(target.address)
    return str(response)
