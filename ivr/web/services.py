"""What the routes depend on, as protocols and small dataclasses (wired in ``ivr.app``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ivr.agents.accounts import AgentDirectory
from ivr.agents.login import LoginGuard
from ivr.agents.queue import AgentQueue, HandoffService
from ivr.call.prompts import PromptBook
from ivr.call.session import CallInfo, CallSession
from ivr.campaigns.service import CampaignService
from ivr.config import Config
from ivr.core.audio import Pcm
from ivr.core.types import Language
from ivr.customers.service import CustomerService
from ivr.metrics import Metrics
from ivr.store.base import Store
from ivr.telephony.base import MediaCodec
from ivr.telephony.twilio_signature import TwilioSignatureValidator
from ivr.web.media_limits import SocketGate
from ivr.web.stream_tickets import StreamTickets


class Readiness(Protocol):
    def ready(self) -> tuple[bool, str]:
        """(all parts up, reason when not)."""
        ...

    def parts(self) -> dict[str, str]: ...


class SessionFactory(Protocol):
    def __call__(
        self, info: CallInfo, codec: MediaCodec, send: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
    ) -> CallSession: ...


@dataclass
class Services:
    config: Config
    store: Store
    codec: MediaCodec
    validator: TwilioSignatureValidator | None
    readiness: Readiness
    prompts: PromptBook
    prompt_audio: dict[tuple[str, Language], Pcm]
    new_session: SessionFactory
    metrics: Metrics = field(default_factory=Metrics)
    active: dict[str, CallSession] = field(default_factory=dict)
    # Customers and follow-ups (/internal/*, /api/followups); None: those routes answer 503.
    customers: CustomerService | None = None
    # The human-agent side (/dashboard/*); None: the dashboard answers 503.
    handoff: HandoffService | None = None
    queue: AgentQueue | None = None
    agents: AgentDirectory | None = None
    logins: LoginGuard | None = None
    # Outbound campaigns (/api/campaigns/*, status callbacks); None: those routes answer 503.
    campaigns: CampaignService | None = None
    # One-time tickets binding each media stream to its voice webhook; open media sockets.
    tickets: StreamTickets = field(default_factory=StreamTickets)
    media_gate: SocketGate = field(default_factory=lambda: SocketGate(60))
