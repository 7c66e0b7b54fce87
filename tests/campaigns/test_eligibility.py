"""Do-not-call, marketing opt-out and frequency caps (new users, long-term customers)."""

from __future__ import annotations

from datetime import timedelta

from ivr.campaigns.eligibility import ContactHistory, check, is_new_user
from ivr.campaigns.model import Purpose
from ivr.campaigns.policy import Policy
from tests.campaigns.helpers import MONDAY_EVENING_SH as NOW
from tests.campaigns.helpers import customer

POLICY = Policy(new_user_days=30, new_user_max_calls=1, max_calls_per_period=2, period_days=30)
NONE = ContactHistory(0, 0)


def test_do_not_call_always_wins() -> None:
    verdict = check(customer("a"), Purpose.SERVICE, POLICY, NOW, do_not_call=True, history=None)
    assert (verdict.ok, verdict.reason) == (False, "do_not_call")


def test_marketing_opt_out_only_blocks_marketing() -> None:
    opted = customer("a", marketing_opt_out=True)
    assert check(opted, Purpose.SERVICE, POLICY, NOW, do_not_call=False, history=NONE).ok
    verdict = check(opted, Purpose.MARKETING, POLICY, NOW, do_not_call=False, history=NONE)
    assert verdict.reason == "marketing_opt_out"
    # Also on a retry (history None): an opt-out during the campaign stops further attempts.
    retry = check(opted, Purpose.MARKETING, POLICY, NOW, do_not_call=False, history=None)
    assert not retry.ok


def test_new_user_is_called_once() -> None:
    new = customer("a", pre_review_passed_at=NOW - timedelta(days=8))
    assert is_new_user(new, NOW, POLICY)
    assert check(new, Purpose.SERVICE, POLICY, NOW, do_not_call=False, history=NONE).ok
    again = check(new, Purpose.SERVICE, POLICY, NOW, do_not_call=False,
                  history=ContactHistory(ever=1, in_period=0))
    assert again.reason == "cap_new_user"


def test_long_term_customer_cap_per_period() -> None:
    old = customer("a", pre_review_passed_at=NOW - timedelta(days=400))
    assert not is_new_user(old, NOW, POLICY)
    ok = check(old, Purpose.SERVICE, POLICY, NOW, do_not_call=False,
               history=ContactHistory(ever=9, in_period=1))
    assert ok.ok
    capped = check(old, Purpose.SERVICE, POLICY, NOW, do_not_call=False,
                   history=ContactHistory(ever=9, in_period=2))
    assert capped.reason == "cap_period"
    # Retries of the same campaign are not counted again.
    assert check(old, Purpose.SERVICE, POLICY, NOW, do_not_call=False, history=None).ok


def test_unusable_phone_is_skipped() -> None:
    verdict = check(customer("a", phone="12345"), Purpose.SERVICE, POLICY, NOW,
                    do_not_call=False, history=NONE)
    assert verdict.reason == "no_phone"
