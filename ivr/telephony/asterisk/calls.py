"""Pure pieces of the Asterisk adapter: call state, dialplan arguments, hang-up causes,
transfer destinations and dial strings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ivr.telephony.asterisk.channel import AudioSocketChannel
from ivr.telephony.base import TransferKind, TransferTarget
from ivr.telephony.provider import CallProgress

# Stasis arguments a dialplan may pass (``Stasis(ivr,lang=zh,customer_id=c1)``): set by the PBX
# administrator, never by the caller.
STASIS_KEYS = frozenset({"lang", "customer_id", "customer_name", "customer_title"})
MEDIA_PREFIX = "ivr-media-"
BRIDGE_PREFIX = "ivr-bridge-"
OUTBOUND_PREFIX = "ivr-out-"
OUTBOUND_ARG = "outbound"

# Q.850 causes of a call that was never answered.
_UNANSWERED = {17: CallProgress.BUSY, 18: CallProgress.NO_ANSWER, 19: CallProgress.NO_ANSWER,
               20: CallProgress.NO_ANSWER, 21: CallProgress.FAILED, 1: CallProgress.FAILED,
               3: CallProgress.FAILED, 34: CallProgress.FAILED, 38: CallProgress.FAILED}


@dataclass
class AsteriskCall:
    channel_id: str
    outbound: bool = False
    params: dict[str, str] = field(default_factory=dict)
    answered: bool = False
    stream_id: str = ""
    media: AudioSocketChannel | None = None
    ended: bool = False
    transferred: bool = False

    @property
    def bridge_id(self) -> str:
        return BRIDGE_PREFIX + self.stream_id

    @property
    def media_channel_id(self) -> str:
        return MEDIA_PREFIX + self.stream_id


def stasis_params(args: Sequence[str]) -> dict[str, str]:
    """``key=value`` Stasis arguments the IVR understands; anything else is ignored."""
    params: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.strip() in STASIS_KEYS and value.strip():
            params[key.strip()] = value.strip()[:64]
    return params


def unanswered_progress(cause: int) -> CallProgress:
    """How an outbound call that never reached Stasis ended (ChannelDestroyed's cause)."""
    return _UNANSWERED.get(cause, CallProgress.NO_ANSWER if cause == 16 else CallProgress.FAILED)


def transfer_extension(target: TransferTarget) -> str:
    """The dialplan extension an agent target maps to: a number as dialled, a SIP URI's user
    part, a client id (an extension or queue name) as is."""
    if target.kind is TransferKind.SIP:
        user = target.address.split(":", 1)[1]
        return user.split("@", 1)[0]
    return target.address


def dial_string(template: str, number: str) -> str:
    digits = number.lstrip("+")
    if not digits.isdigit():
        raise ValueError("outbound numbers must be digits (E.164)")
    return template.replace("{number}", digits)


def channel_variables(channel_id: str, params: Mapping[str, str]) -> dict[str, str]:
    """What an originated channel carries for the PBX (CDRs, dialplan): the call's id and the
    campaign's customer/attempt."""
    out = {"IVR_CALL_UUID": channel_id}
    for key, value in params.items():
        if key in ("customer_id", "campaign_id", "attempt_id", "lang") and value:
            out[f"IVR_{key.upper()}"] = value
    return out
