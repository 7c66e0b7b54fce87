"""What the routes depend on, as protocols and small dataclasses (wired in ``ivr.app``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ivr.agents.accounts import AgentDirectory
from ivr.agents.login import LoginGuard
from ivr.agents.queue import AgentQueue, HandoffService
from ivr.call.prompts import PromptBook
from ivr.campaigns.service import CampaignService
from ivr.config import Config
from ivr.core.audio import Pcm
from ivr.core.types import Language
from ivr.customers.service import CustomerService
from ivr.metrics import Metrics
from ivr.store.base import Store


class Readiness(Protocol):
    def ready(self) -> tuple[bool, str]:
        """(all parts up, reason when not)."""
        ...

    def parts(self) -> dict[str, str]: ...


class LiveCalls(Protocol):
    """The calls in progress (the call hub)."""

    @property
    def active(self) -> dict[str, Any]: ...


@dataclass
class Services:
    config: Config
    store: Store
    readiness: Readiness
    prompts: PromptBook
    prompt_audio: dict[tuple[str, Language], Pcm]
    calls: LiveCalls | None = None
    metrics: Metrics = field(default_factory=Metrics)
    # Customers and follow-ups (/internal/*, /api/followups); None: those routes answer 503.
    customers: CustomerService | None = None
    # The human-agent side (/dashboard/*); None: the dashboard answers 503.
    handoff: HandoffService | None = None
    queue: AgentQueue | None = None
    agents: AgentDirectory | None = None
    logins: LoginGuard | None = None
    # Outbound campaigns (/api/campaigns/*, status callbacks); None: those routes answer 503.
    campaigns: CampaignService | None = None

    @property
    def active(self) -> dict[str, Any]:
        return self.calls.active if self.calls is not None else {}
