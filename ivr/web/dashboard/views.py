"""JSON views the dashboard sends to the browser. Everything is masked already (the store
masks on write); names are shortened here too, since the agent needs only a greeting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ivr.agents.model import Agent, QueueEntry
from ivr.core.pii import mask_phone, mask_text
from ivr.store.records import CallRecord, TurnRecord

JsonDict = dict[str, Any]
CARD_LISTS = ("confirmed_fields", "faq_topics")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def mask_name(name: str) -> str:
    """``张三丰`` -> ``张**``; ``Emma Hall`` -> ``E. H.``."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(f"{word[0]}." for word in name.split())
    return name[0] + "*" * (len(name) - 1)


def customer_view(context: JsonDict) -> JsonDict:
    raw = context.get("customer")
    customer: JsonDict = raw if isinstance(raw, dict) else {}
    name = str(customer.get("name") or "")
    return {
        "label": str(customer.get("title") or mask_name(name) or "unknown caller"),
        "name_masked": mask_name(name),
        "customer_id": customer.get("customer_id"),
        "phone_masked": mask_phone(str(customer.get("phone_masked") or "")) or None,
        "card_last4": customer.get("card_last4"),
        "city": customer.get("city"),
        "activation_status": customer.get("activation_status"),
    }


def entry_view(entry: QueueEntry) -> JsonDict:
    return {
        "id": entry.id, "call_sid": entry.call_sid, "reason": entry.reason,
        "priority": entry.priority.value, "language": entry.language.value,
        "status": entry.status.value, "agent_id": entry.agent_id, "attempts": entry.attempts,
        "enqueued_at": _time(entry.enqueued_at), "accepted_at": _time(entry.accepted_at),
        "customer": customer_view(entry.context),
    }


def agent_view(agent: Agent) -> JsonDict:
    return {"id": agent.id, "username": agent.username, "display_name": agent.display_name,
            "role": agent.role.value, "languages": [lang.value for lang in agent.languages],
            "presence": agent.presence.value}


def _transcript(turns: list[TurnRecord], context: JsonDict) -> list[JsonDict]:
    if turns:
        return [{"role": t.role.value, "text": t.text, "at": _time(t.started_at)}
                for t in turns]
    stored = context.get("transcript")
    if not isinstance(stored, list):
        return []
    return [{"role": str(t.get("role", "")), "text": mask_text(str(t.get("text", ""))),
             "at": None} for t in stored if isinstance(t, dict)]


def _listed(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("field") or item.get("topic") or ", ".join(
                f"{k}: {v}" for k, v in item.items())
        out.append(mask_text(str(item)))
    return out


def context_card(entry: QueueEntry, call: CallRecord | None, turns: list[TurnRecord]
                 ) -> JsonDict:
    """The card: customer, reason and priority, what was confirmed, transcript, FAQ topics,
    rating. The call record is fresher than the card made at enqueue, so it wins."""
    details = call.details if call is not None else {}
    card: JsonDict = {"entry": entry_view(entry), "customer": customer_view(entry.context),
                      "reason": entry.reason, "priority": entry.priority.value,
                      "language": entry.language.value}
    for key in CARD_LISTS:
        card[key] = _listed(details.get(key) or entry.context.get(key))
    rating = details.get("rating", entry.context.get("rating"))
    card["rating"] = rating if isinstance(rating, int) and not isinstance(rating, bool) else None
    card["transcript"] = _transcript(turns, entry.context)
    wrapup = details.get("wrapup")
    card["wrapup"] = wrapup if isinstance(wrapup, dict) else None
    return card
