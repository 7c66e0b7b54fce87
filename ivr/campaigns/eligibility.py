"""May this customer be called for this campaign now? Do-not-call, marketing opt-out and
frequency caps (pure; the store supplies the counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.campaigns.model import Eligibility, Purpose
from ivr.campaigns.policy import Policy
from ivr.customers.model import Customer
from ivr.customers.validate import is_e164


@dataclass(frozen=True, slots=True)
class ContactHistory:
    """Other campaigns that already dialled the customer (this one excluded)."""

    ever: int  # in all time
    in_period: int  # since ``now - policy.period_days``


def is_new_user(customer: Customer, now: datetime, policy: Policy) -> bool:
    passed = customer.pre_review_passed_at
    return passed is not None and now - passed < timedelta(days=policy.new_user_days)


def check(customer: Customer, purpose: Purpose, policy: Policy, now: datetime, *,
          do_not_call: bool, history: ContactHistory | None) -> Eligibility:
    """``history`` None means "already contacted by this campaign" (a retry): caps were
    checked before the first attempt and are not counted again."""
    if do_not_call:
        return Eligibility(False, "do_not_call")
    if purpose is Purpose.MARKETING and customer.marketing_opt_out:
        return Eligibility(False, "marketing_opt_out")
    if not is_e164(customer.phone):
        return Eligibility(False, "no_phone")
    if history is None:
        return Eligibility(True)
    if is_new_user(customer, now, policy):
        if history.ever >= policy.new_user_max_calls:
            return Eligibility(False, "cap_new_user")
    elif history.in_period >= policy.max_calls_per_period:
        return Eligibility(False, "cap_period")
    return Eligibility(True)
