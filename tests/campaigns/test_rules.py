"""Targeting rules: pre-review passed N days ago, large transaction then inactive, complaint."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr.campaigns.model import Rule, RuleKind
from ivr.campaigns.rules import RuleError, first_match, matches, parse_rule_text, rule_from_json
from ivr.customers.model import (
    ApplicationStatus,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from tests.campaigns.helpers import MONDAY_EVENING_SH as NOW
from tests.campaigns.helpers import customer


def tx(days_ago: float, amount: float, status: TransactionStatus = TransactionStatus.OK
       ) -> Transaction:
    return Transaction(at=NOW - timedelta(days=days_ago), kind=TransactionKind.PAYMENT,
                       amount=amount, currency="CNY", status=status)


def test_pre_review_rule_window() -> None:
    rule = Rule(RuleKind.PRE_REVIEW, days=7, within_days=14)
    assert matches(rule, customer("a", pre_review_passed_at=NOW - timedelta(days=7)), NOW)
    assert matches(rule, customer("a", pre_review_passed_at=NOW - timedelta(days=20)), NOW)
    assert not matches(rule, customer("a", pre_review_passed_at=NOW - timedelta(days=6)), NOW)
    assert not matches(rule, customer("a", pre_review_passed_at=NOW - timedelta(days=21)), NOW)
    assert not matches(rule, customer("a", pre_review_passed_at=None), NOW)
    assert not matches(rule, customer("a", application_status=ApplicationStatus.SUBMITTED), NOW)


def test_large_transaction_then_inactive() -> None:
    rule = Rule(RuleKind.LARGE_INACTIVE, days=14, min_amount=5000)
    assert matches(rule, customer("a", recent_transactions=(tx(20, 8000), tx(30, 10))), NOW)
    assert not matches(rule, customer("a", recent_transactions=(tx(20, 8000), tx(3, 10))), NOW)
    assert not matches(rule, customer("a", recent_transactions=(tx(20, 100),)), NOW)
    failed = (tx(20, 8000, TransactionStatus.FAILED),)
    assert not matches(rule, customer("a", recent_transactions=failed), NOW)
    assert not matches(rule, customer("a"), NOW)


def test_complaint_rule_uses_open_complaints() -> None:
    rule = Rule(RuleKind.COMPLAINT)
    assert matches(rule, customer("a"), NOW, complaints={"a"})
    assert not matches(rule, customer("b"), NOW, complaints={"a"})
    rules = (Rule(RuleKind.LARGE_INACTIVE), rule)
    picked = first_match(rules, customer("a"), NOW, {"a"})
    assert picked is not None and picked.kind is RuleKind.COMPLAINT


def test_rule_parsing() -> None:
    assert parse_rule_text("pre_review:days=5,within_days=3") == Rule(RuleKind.PRE_REVIEW, 5, 3)
    assert parse_rule_text("large_inactive:min_amount=800").min_amount == 800.0
    assert rule_from_json({"kind": "complaint"}).kind is RuleKind.COMPLAINT
    for bad in ({"kind": "nope"}, {"kind": "pre_review", "days": -1},
                {"kind": "pre_review", "extra": 1}, "pre_review"):
        with pytest.raises(RuleError):
            rule_from_json(bad)
    with pytest.raises(RuleError):
        parse_rule_text("pre_review:days")
