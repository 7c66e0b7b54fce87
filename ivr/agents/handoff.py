"""Handoff until the agent queue exists: record the escalation, apologise, promise a callback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ivr.call.prompts import SystemPrompt
from ivr.core.types import CallOutcome
from ivr.dialogue.turns import Handoff

if TYPE_CHECKING:
    from ivr.call.session import CallSession

log = logging.getLogger(__name__)


class CallbackHandoff:
    """No live agents: the caller hears that someone will call back; the call ends escalated."""

    async def handoff(self, session: CallSession, handoff: Handoff) -> None:
        log.info("call %s escalated (%s, %s) with no agent queue: callback promised",
                 session.info.call_sid, handoff.reason, handoff.priority.value)
        await session.end_for_handoff(CallOutcome.ESCALATED, SystemPrompt.NO_AGENT)
