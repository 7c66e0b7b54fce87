"""Back-off, maximum attempts, status mapping and calls-per-second pacing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr.campaigns.model import AttemptState
from ivr.campaigns.pacing import Pacer
from ivr.campaigns.policy import Policy, PolicyError
from ivr.campaigns.retry import STATUS_STATES, backoff, next_attempt_at, retryable_http
from ivr.telephony.provider import CallProgress
from tests.campaigns.helpers import MONDAY_EVENING_SH as NOW
from tests.campaigns.helpers import FakeClock


def test_exponential_backoff_capped() -> None:
    policy = Policy(retry_backoff_s=600, retry_backoff_factor=2, retry_backoff_max_s=1500,
                    max_attempts=5)
    assert [backoff(policy, n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=600), timedelta(seconds=1200), timedelta(seconds=1500),
        timedelta(seconds=1500)]


def test_max_attempts() -> None:
    policy = Policy(max_attempts=3, retry_backoff_s=60)
    assert next_attempt_at(policy, 1, NOW) == NOW + timedelta(seconds=60)
    assert next_attempt_at(policy, 2, NOW) == NOW + timedelta(seconds=120)
    assert next_attempt_at(policy, 3, NOW) is None


def test_status_mapping_and_retryable_errors() -> None:
    assert STATUS_STATES[CallProgress.NO_ANSWER] is AttemptState.NO_ANSWER
    assert STATUS_STATES[CallProgress.ANSWERED] is AttemptState.IN_PROGRESS
    assert [retryable_http(s) for s in (0, 429, 500, 503, 400, 401, 404)] == [
        True, True, True, True, False, False, False]


def test_policy_validation() -> None:
    with pytest.raises(PolicyError, match="max_attempts"):
        Policy().updated({"max_attempts": 0})
    with pytest.raises(PolicyError, match="unknown"):
        Policy().updated({"nope": 1})
    with pytest.raises(PolicyError, match="survey_url"):
        Policy().updated({"survey_url": "https://x"})
    with pytest.raises(PolicyError):
        Policy().updated({"max_attempts": "3"})
    round_trip = Policy().updated({"holidays": ["2024-10-01"], "weekend_days": ["sun"]})
    assert Policy().updated(round_trip.to_json()) == round_trip


async def test_pacer_spaces_calls_without_real_sleep() -> None:
    clock = FakeClock()
    pacer = Pacer(4.0, clock.monotonic, clock.sleep)
    for _ in range(5):
        await pacer.acquire()
    assert clock.slept == [0.25, 0.25, 0.25, 0.25]
    clock.advance(seconds=10)
    await pacer.acquire()
    assert len(clock.slept) == 4  # idle time is not banked beyond one slot
