"""Campaign, target and attempt records (typed, no I/O). Times are timezone-aware UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ivr.campaigns.policy import Policy

JsonDict = dict[str, Any]


class CampaignState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"


class Purpose(StrEnum):
    """``marketing`` campaigns never call a customer with ``marketing_opt_out``."""

    SERVICE = "service"
    MARKETING = "marketing"


class RuleKind(StrEnum):
    PRE_REVIEW = "pre_review"  # pre-review passed N days ago
    LARGE_INACTIVE = "large_inactive"  # a large transaction, then nothing for N days
    COMPLAINT = "complaint"  # an open ``complaint`` follow-up


class TargetState(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt
    DIALING = "dialing"  # an attempt is written, the provider request is in flight
    IN_PROGRESS = "in_progress"  # the provider accepted the call (ringing / talking)
    RETRYING = "retrying"  # not reached yet; ``next_at`` is the next attempt
    COMPLETED = "completed"  # reached a person (whatever the conversation outcome)
    FALLBACK_PENDING = "fallback_pending"  # last attempt failed; survey link to send
    FALLBACK_SENDING = "fallback_sending"
    FALLBACK = "fallback"  # survey link sent
    FAILED = "failed"  # not reached and no link could be sent
    SKIPPED = "skipped"  # never dialled: do-not-call, opt-out, frequency cap ...
    UNKNOWN = "unknown"  # a dial was in flight when the process died; never redialled


# A target booked because the customer asked to be called back (ivr.campaigns.callbacks): the
# frequency caps do not apply to it (do-not-call does).
CALLBACK_SOURCE = "callback"

DUE_STATES = (TargetState.QUEUED, TargetState.RETRYING)
LIVE_STATES = (TargetState.DIALING, TargetState.IN_PROGRESS)
OPEN_STATES = (*DUE_STATES, *LIVE_STATES, TargetState.FALLBACK_PENDING)


class AttemptState(StrEnum):
    DIALING = "dialing"  # written before the provider request
    INITIATED = "initiated"  # the provider returned a call sid
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"  # answered
    COMPLETED = "completed"  # answered by a person, call over
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # the provider could not connect the call
    CANCELED = "canceled"
    VOICEMAIL = "voicemail"  # answering-machine detection said "machine"
    ERROR = "error"  # the provider refused the request (no call exists)
    UNKNOWN = "unknown"  # dial in flight at a crash; a late status callback may resolve it


ACTIVE_ATTEMPTS = (AttemptState.DIALING, AttemptState.INITIATED, AttemptState.RINGING,
                   AttemptState.IN_PROGRESS)
# Closed on the IVR's side while the call may still be up at the provider: the session ended
# (completed) or a machine answered (voicemail; the hang-up is requested). Such an attempt
# keeps its campaign line until ``line_released_at`` is set (ivr.campaigns.dialer).
LINE_AFTER_CLOSE = (AttemptState.COMPLETED, AttemptState.VOICEMAIL)
UNREACHED_ATTEMPTS = (AttemptState.BUSY, AttemptState.NO_ANSWER, AttemptState.FAILED,
                      AttemptState.CANCELED, AttemptState.VOICEMAIL, AttemptState.ERROR)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: RuleKind
    days: int = 7  # pre_review: days since the pass; large_inactive: days without activity
    within_days: int = 14  # pre_review: how far back a pass still counts
    min_amount: float = 5000.0  # large_inactive: what "large" means

    def to_json(self) -> JsonDict:
        return {"kind": self.kind.value, "days": self.days, "within_days": self.within_days,
                "min_amount": self.min_amount}


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    name: str
    purpose: Purpose = Purpose.SERVICE
    rules: tuple[Rule, ...] = ()
    policy: Policy = field(default_factory=Policy)
    state: CampaignState = CampaignState.DRAFT
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    ends_at: datetime | None = None  # rule campaigns keep adding targets until then
    rules_checked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Target:
    campaign_id: str
    customer_id: str
    source: str  # the rule kind that selected the customer, or "list"
    state: TargetState
    attempts: int
    next_at: datetime | None
    created_at: datetime
    updated_at: datetime
    reason: str | None = None  # why skipped / failed
    last_outcome: str | None = None  # the conversation outcome of the reaching call
    fallback_channel: str | None = None
    fallback_ref: str | None = None  # the SMS sid or e-mail message id
    fallback_token: str | None = None  # the survey link's opaque token
    lease_owner: str | None = None  # the worker whose dialer claimed the target
    lease_until: datetime | None = None  # after this another worker may claim it


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    campaign_id: str
    customer_id: str
    attempt_no: int
    state: AttemptState
    created_at: datetime
    call_sid: str | None = None
    answered_by: str | None = None
    outcome: str | None = None
    voicemail_action: str | None = None
    error: str | None = None
    dialed_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    worker: str = ""  # the worker that placed the call
    # The provider's final status came (or stopped being waited for): the line is free.
    line_released_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Eligibility:
    ok: bool
    reason: str = ""
