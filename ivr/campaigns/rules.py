"""Targeting rules: which customers a rule-based campaign calls (pure functions)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from ivr.campaigns.model import Rule, RuleKind
from ivr.customers.model import ApplicationStatus, Customer, TransactionStatus


class RuleError(ValueError):
    """An invalid rule; the message names the field."""


def rule_from_json(raw: object) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError("a rule must be an object with a 'kind'")
    unknown = sorted(set(raw) - {"kind", "days", "within_days", "min_amount"})
    if unknown:
        raise RuleError(f"unknown rule field(s): {', '.join(unknown)}")
    try:
        kind = RuleKind(str(raw.get("kind")))
    except ValueError:
        known = ", ".join(k.value for k in RuleKind)
        raise RuleError(f"rule kind must be one of {known}") from None
    values: dict[str, Any] = {"kind": kind}
    for name in ("days", "within_days"):
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RuleError(f"rule {name} must be a whole number >= 0")
            values[name] = value
    if "min_amount" in raw:
        amount = raw["min_amount"]
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            raise RuleError("rule min_amount must be a positive number")
        values["min_amount"] = float(amount)
    return Rule(**values)


def parse_rule_text(text: str) -> Rule:
    """CLI form: ``pre_review:days=7,within_days=14``, ``large_inactive:min_amount=5000``."""
    kind, _, params = text.partition(":")
    raw: dict[str, object] = {"kind": kind.strip()}
    for part in filter(None, (p.strip() for p in params.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise RuleError(f"rule parameter {part!r} is not key=value")
        try:
            raw[key.strip()] = float(value) if key.strip() == "min_amount" else int(value)
        except ValueError:
            raise RuleError(f"rule parameter {part!r}: not a number") from None
    return rule_from_json(raw)


def matches(rule: Rule, customer: Customer, now: datetime,
            complaints: Collection[str] = ()) -> bool:
    """Whether ``customer`` is a target of ``rule`` at ``now``.

    ``complaints`` holds the ids of customers with an open ``complaint`` follow-up."""
    if rule.kind is RuleKind.PRE_REVIEW:
        passed = customer.pre_review_passed_at
        if customer.application_status is not ApplicationStatus.PRE_REVIEW_PASSED or not passed:
            return False
        due = now - timedelta(days=rule.days)
        return due - timedelta(days=rule.within_days) < passed <= due
    if rule.kind is RuleKind.LARGE_INACTIVE:
        done = [t for t in customer.recent_transactions if t.status is TransactionStatus.OK]
        if not any(t.amount >= rule.min_amount for t in done):
            return False
        last = max(t.at for t in customer.recent_transactions)
        return last <= now - timedelta(days=rule.days)
    return customer.customer_id in complaints


def first_match(rules: Collection[Rule], customer: Customer, now: datetime,
                complaints: Collection[str] = ()) -> Rule | None:
    return next((r for r in rules if matches(r, customer, now, complaints)), None)
