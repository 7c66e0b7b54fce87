"""JSON-ready, masked views of customers and follow-ups for the APIs and the CLI.

No view carries the full phone number, the e-mail address or any ID digit: the phone is
masked (``138****5678``), the ID number is never shown at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ivr.core.pii import mask_phone
from ivr.customers.model import Customer, FollowUp, Transaction, TransactionKind, TransactionStatus

JsonDict = dict[str, Any]
ISSUE_WINDOW = timedelta(days=7)


def phone_masked(phone: str) -> str:
    """Chinese numbers as dialled at home (``138****5678``), others with country code."""
    if phone.startswith("+86"):
        return mask_phone(phone[3:])
    return mask_phone(phone)


def _issue_kind(t: Transaction) -> str | None:
    if t.kind is TransactionKind.REFUND:
        return "refund"
    if t.kind is TransactionKind.PAYMENT and t.status is TransactionStatus.FAILED:
        return "failed_payment"
    return None


def recent_issues(customer: Customer, now: datetime,
                  window: timedelta = ISSUE_WINDOW) -> list[JsonDict]:
    """Failed payments and refunds at most ``window`` before ``now``, newest first."""
    issues: list[tuple[datetime, JsonDict]] = []
    for t in customer.recent_transactions:
        kind = _issue_kind(t)
        if kind is None or not now - window <= t.at <= now:
            continue
        issues.append((t.at, {"kind": kind, "at": t.at.isoformat(), "amount": t.amount,
                              "currency": t.currency, "payee": t.payee,
                              "channel": t.channel, "error": t.error}))
    issues.sort(key=lambda item: item[0], reverse=True)
    return [issue for _, issue in issues]


def customer_profile(customer: Customer, now: datetime) -> JsonDict:
    """What the action server may know about a customer (the internal API contract)."""
    c = customer
    return {
        "customer_id": c.customer_id,
        "name": c.name,
        "title": c.title,
        "language": c.language.value,
        "phone_masked": phone_masked(c.phone),
        "card_last4": c.card_last4,
        "city": c.city,
        "application_status": c.application_status.value,
        "activation_status": c.activation_status.value,
        "missing_documents": list(c.missing_documents),
        "expected_review_days": c.expected_review_days,
        "marketing_opt_out": c.marketing_opt_out,
        "preferred_channel": c.preferred_channel.value,
        "recent_issues": recent_issues(c, now),
        "id_ends_with_x": c.id_ends_with_x,  # the prompt says "press * for X"
    }


def customer_row(customer: Customer) -> JsonDict:
    """One line of ``ivr customers list``."""
    c = customer
    return {"customer_id": c.customer_id, "name": c.name, "phone": phone_masked(c.phone),
            "language": c.language.value, "city": c.city,
            "application_status": c.application_status.value,
            "activation_status": c.activation_status.value,
            "marketing_opt_out": c.marketing_opt_out,
            "transactions": len(c.recent_transactions)}


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def followup_to_dict(task: FollowUp) -> JsonDict:
    return {"id": task.id, "call_sid": task.call_sid, "customer_id": task.customer_id,
            "kind": task.kind.value, "detail": task.detail, "status": task.status.value,
            "owner": task.owner, "due_at": _time(task.due_at),
            "created_at": _time(task.created_at), "done_at": _time(task.done_at)}
