"""The supervisor's view: queue statistics, every agent's presence, open follow-up tasks."""

from __future__ import annotations

from typing import Any

from ivr.customers.model import FollowUpStatus
from ivr.customers.views import followup_to_dict
from ivr.web.dashboard.auth import Parts
from ivr.web.dashboard.views import agent_view

MAX_FOLLOWUPS = 100


async def overview(p: Parts) -> dict[str, Any]:
    followups: list[dict[str, Any]] = []
    if p.services.customers is not None:
        tasks = await p.services.customers.store.list_followups(
            status=FollowUpStatus.OPEN, limit=MAX_FOLLOWUPS)
        followups = [followup_to_dict(t) for t in tasks]
    return {"stats": await p.queue.stats(),
            "agents": [agent_view(a) for a in await p.agents.list()],
            "followups": followups,
            "followups_configured": p.services.customers is not None}
