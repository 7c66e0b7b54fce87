"""Call control over ARI: hang up, transfer to an agent's extension or queue, originate."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.core.errors import ProviderApiError
from ivr.telephony.asterisk.ari_client import AriClient
from ivr.telephony.asterisk.calls import (
    OUTBOUND_ARG,
    OUTBOUND_PREFIX,
    AsteriskCall,
    channel_variables,
    dial_string,
    transfer_extension,
    unanswered_progress,
)
from ivr.telephony.asterisk.channel import WireBounds
from ivr.telephony.base import TransferTarget
from ivr.telephony.provider import CallProgress, OutboundCall

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsteriskSettings:
    ari_url: str
    ari_user: str
    ari_password: str = field(repr=False)
    app: str = "ivr"
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = 9092
    advertise: str = ""  # host:port Asterisk connects to (default: host and bound port)
    peers: tuple[str, ...] = ("127.0.0.1",)
    dtmf_from: str = "ari"
    outbound_endpoint: str = "PJSIP/{number}@trunk"
    caller_id: str = ""
    ring_timeout_s: int = 30
    transfer_context: str = "ivr-agents"
    request_timeout_s: float = 5.0
    max_connections: int = 60  # AudioSocket connections open at once
    wire: WireBounds = field(default_factory=WireBounds)


@dataclass
class _Placed:
    params: dict[str, str]
    answered: bool = False


class AsteriskControl:
    """``CallControl`` for Asterisk; failures raise ``ProviderApiError``."""

    def __init__(self, ari: AriClient, settings: AsteriskSettings,
                 calls: Mapping[str, AsteriskCall]) -> None:
        self._ari = ari
        self._settings = settings
        self._calls = calls
        self._placed: dict[str, _Placed] = {}

    async def hangup(self, call_id: str) -> None:
        await self._ari.hangup(call_id)

    async def transfer(self, call_id: str, target: TransferTarget) -> None:
        """The caller's channel leaves the IVR into the transfer context at the agent's
        extension (the dialplan there dials the agent or queues the call)."""
        call = self._calls.get(call_id)
        if call is not None:
            call.transferred = True
        try:
            await self._ari.continue_in_dialplan(call_id, context=self._settings.transfer_context,
                                                 extension=transfer_extension(target),
                                                 priority=1)
        except ProviderApiError:
            if call is not None:
                call.transferred = False
            raise
        log.info("asterisk transfer %s -> %r", call_id[:16], target)

    async def originate(self, call: OutboundCall) -> str:
        channel_id = OUTBOUND_PREFIX + uuid.uuid4().hex
        try:
            endpoint = dial_string(self._settings.outbound_endpoint, call.to)
        except ValueError as exc:
            raise ProviderApiError(f"originate: {exc}") from exc
        self._placed[channel_id] = _Placed(dict(call.params))
        try:
            await self._ari.originate(
                channel_id, endpoint, app=self._settings.app, app_args=OUTBOUND_ARG,
                caller_id=call.from_ or self._settings.caller_id,
                timeout_s=self._settings.ring_timeout_s,
                variables=channel_variables(channel_id, call.params))
        except ProviderApiError:
            self._placed.pop(channel_id, None)
            raise
        return channel_id

    # ---- what the adapter asks about originated calls ---------------------------------------

    def owns(self, call_id: str) -> bool:
        """A call of this PBX: live in Stasis with us, or placed by us."""
        return call_id in self._calls or call_id in self._placed

    def is_originated(self, channel_id: str) -> bool:
        return channel_id in self._placed

    def params_of(self, channel_id: str) -> dict[str, str]:
        placed = self._placed.get(channel_id)
        return dict(placed.params) if placed is not None else {}

    def mark_answered(self, channel_id: str) -> None:
        if channel_id in self._placed:
            self._placed[channel_id].answered = True

    def final_progress(self, channel_id: str, cause: int) -> CallProgress:
        placed = self._placed.get(channel_id)
        if placed is not None and placed.answered:
            return CallProgress.COMPLETED
        return unanswered_progress(cause)

    def forget(self, channel_id: str) -> None:
        self._placed.pop(channel_id, None)
