"""Call progress → attempt states, and when to try again (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ivr.campaigns.model import AttemptState
from ivr.campaigns.policy import Policy
from ivr.telephony.provider import CallProgress

STATUS_STATES: dict[CallProgress, AttemptState] = {
    CallProgress.QUEUED: AttemptState.INITIATED,
    CallProgress.RINGING: AttemptState.RINGING,
    CallProgress.ANSWERED: AttemptState.IN_PROGRESS,
    CallProgress.COMPLETED: AttemptState.COMPLETED,
    CallProgress.BUSY: AttemptState.BUSY,
    CallProgress.NO_ANSWER: AttemptState.NO_ANSWER,
    CallProgress.FAILED: AttemptState.FAILED,
    CallProgress.CANCELED: AttemptState.CANCELED,
}
PROGRESS_RANK = {AttemptState.DIALING: 0, AttemptState.INITIATED: 1, AttemptState.RINGING: 2,
                 AttemptState.IN_PROGRESS: 3}
# The provider's last report on a call: the call is over.
FINAL_PROGRESS = frozenset(p for p, s in STATUS_STATES.items() if s not in PROGRESS_RANK)


def backoff(policy: Policy, attempts_made: int) -> timedelta:
    """The wait after the ``attempts_made``-th unreached attempt (1-based)."""
    factor = policy.retry_backoff_factor ** max(0, attempts_made - 1)
    return timedelta(seconds=min(policy.retry_backoff_max_s, policy.retry_backoff_s * factor))


def next_attempt_at(policy: Policy, attempts_made: int, now: datetime) -> datetime | None:
    """When to try again after an unreached attempt; None when attempts are used up."""
    if attempts_made >= policy.max_attempts:
        return None
    return now + backoff(policy, attempts_made)


def retryable_http(http_status: int) -> bool:
    """A refused dial request worth retrying: no answer at all, throttled, or a server error."""
    return http_status == 0 or http_status == 429 or http_status >= 500
