"""Masked profiles, recent issues, follow-up due times and call results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from ivr.customers.model import FollowUpKind
from ivr.customers.results import ResultError, merge_results, validate_results
from ivr.customers.service import CustomerService
from ivr.customers.views import customer_profile, phone_masked, recent_issues
from ivr.store.customers import SqliteCustomerStore
from tests.customers.customer_samples import NOW, PHONE, PHONE_DIGITS, customer

CONTRACT_KEYS = {"customer_id", "name", "title", "language", "phone_masked", "card_last4",
                 "city", "application_status", "activation_status", "missing_documents",
                 "expected_review_days", "marketing_opt_out", "preferred_channel",
                 "recent_issues", "id_ends_with_x"}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[CustomerService]:
    async with await SqliteCustomerStore.open(tmp_path / "ivr.db") as store:
        await store.upsert_customers([customer()])
        yield CustomerService(store, clock=Clock())


def test_phone_masked() -> None:
    assert phone_masked(PHONE) == "138****5678"
    assert phone_masked("+447700900123") == "+44770***0123"


def test_recent_issues_are_failed_payments_and_refunds_of_the_last_7_days() -> None:
    issues = recent_issues(customer(), NOW)
    assert [(i["kind"], i["amount"]) for i in issues] == [("failed_payment", 128.0),
                                                          ("refund", 45.0)]
    assert issues[0] == {"kind": "failed_payment", "at": (NOW - timedelta(days=1)).isoformat(),
                         "amount": 128.0, "currency": "CNY", "payee": "星巴克",
                         "channel": "app_qr", "error": "余额不足"}
    assert [i["kind"] for i in recent_issues(customer(), NOW + timedelta(days=7))] == []
    # three days earlier: the refund of that moment, and the ones 6 and exactly 7 days before
    assert [i["kind"] for i in recent_issues(customer(), NOW - timedelta(days=3))] == [
        "refund", "failed_payment", "refund"]


def test_profile_has_the_contract_keys_and_no_secrets() -> None:
    profile = customer_profile(customer(), NOW)
    assert set(profile) == CONTRACT_KEYS
    text = repr(profile)
    assert PHONE_DIGITS not in text and "123X" not in text and "example.com" not in text
    assert profile["phone_masked"] == "138****5678"
    assert profile["id_ends_with_x"] is True


async def test_profile_uses_the_injected_clock(service: CustomerService) -> None:
    profile = await service.profile("c-001")
    assert profile is not None and len(profile["recent_issues"]) == 2
    service.clock.now = NOW + timedelta(days=30)  # type: ignore[attr-defined]
    profile = await service.profile("c-001")
    assert profile is not None and profile["recent_issues"] == []
    assert await service.profile("missing") is None


async def test_customer_for_phone(service: CustomerService) -> None:
    assert await service.customer_id_for_phone("+86 138 1234 5678") == "c-001"
    assert await service.customer_id_for_phone("not a phone") is None
    await service.store.upsert_customers([customer(customer_id="c-twin")])
    assert await service.customer_id_for_phone(PHONE) is None  # ambiguous: nobody


async def test_followup_due_times(service: CustomerService) -> None:
    fraud = await service.add_followup(FollowUpKind.FRAUD_REPORT, "unknown charge",
                                       call_sid="CA1", customer_id="c-001")
    assert fraud.due_at == NOW + timedelta(hours=1) and fraud.created_at == NOW
    later = await service.add_followup(FollowUpKind.CALLBACK, "call at 6pm", call_sid="CA1",
                                       customer_id=None, due_in_hours=8)
    assert later.due_at == NOW + timedelta(hours=8)
    with pytest.raises(ValueError):
        await service.add_followup(FollowUpKind.CALLBACK, "", call_sid=None, customer_id=None,
                                   due_in_hours=-1)


def test_results_validation() -> None:
    update = validate_results({"rating": 5, "offer": "accepted", "identity_verified": True,
                               "feedback": "call me on 13812345678 " + "x" * 2000,
                               "faq_topics": ["payment_failure", "payment_failure"],
                               "reward": {"kind": "points", "amount": 100}})
    assert update["feedback"].startswith("call me on *******5678 ")
    assert len(update["feedback"]) == 1000
    assert update["faq_topics"] == ["payment_failure"]
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": True}, {"offer": "maybe"},
                {"identity_verified": "yes"}, {"faq_topics": "x"}, {"reward": {"a": [1]}},
                {"feedback": 3}):
        with pytest.raises(ResultError) as err:
            validate_results(bad)
        assert err.value.code == "invalid_field"
    with pytest.raises(ResultError) as err:
        validate_results({"rating": 4, "mood": "ok", "colour": 1})
    assert err.value.code == "unknown_fields" and "colour, mood" in str(err.value)


def test_list_items_may_be_small_objects() -> None:
    update = validate_results({"corrections": [{"field": "city", "value": "杭州"}, "name",
                                               {"field": "city", "value": "杭州"}]})
    assert update["corrections"] == [{"field": "city", "value": "杭州"}, "name"]
    for bad in ([{"field": ["nested"]}], [{"x": "y" * 400}], [""], [7]):
        with pytest.raises(ResultError):
            validate_results({"corrections": bad})


def test_results_merge_unions_lists() -> None:
    stored = {"faq_topics": ["a"], "rating": 2, "other": 1}
    assert merge_results(stored, {"faq_topics": ["b", "a"], "rating": 4}) == {
        "faq_topics": ["a", "b"], "rating": 4}
