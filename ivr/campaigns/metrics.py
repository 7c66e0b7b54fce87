"""Campaign numbers from its targets and attempts joined to the call store (pure).

A target is *dialled* when it had at least one attempt, *reached* when an attempt was
answered by a person (``completed``); the reaching call's record gives the conversation
outcome, rating, FAQ topics, offer, reward and escalation. Turn latencies come from every
call of the campaign.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.campaigns.model import Attempt, AttemptState, Target, TargetState
from ivr.store.records import CallRecord, Role, TurnRecord


@dataclass
class CampaignMetrics:
    targets: int = 0
    dialled: int = 0
    reached: int = 0
    completed: int = 0
    attempts: int = 0
    voicemail: int = 0
    busy: int = 0
    no_answer: int = 0
    fallback_sms: int = 0
    fallback_email: int = 0
    followups_open: int = 0
    offers_made: int = 0
    offers_accepted: int = 0
    rewards_granted: int = 0
    escalated: int = 0
    ratings: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    escalation_reasons: Counter[str] = field(default_factory=Counter)
    faq_topics: Counter[str] = field(default_factory=Counter)
    target_states: Counter[str] = field(default_factory=Counter)
    skip_reasons: Counter[str] = field(default_factory=Counter)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def reach_rate(self) -> float | None:
        return self._rate(self.reached, self.dialled)

    @property
    def completion_rate(self) -> float | None:
        return self._rate(self.completed, self.reached)

    @property
    def escalation_rate(self) -> float | None:
        return self._rate(self.escalated, self.reached)

    @property
    def average_rating(self) -> float | None:
        return round(sum(self.ratings) / len(self.ratings), 3) if self.ratings else None

    def funnel(self) -> list[tuple[str, int]]:
        return [("targets", self.targets), ("dialled", self.dialled),
                ("reached", self.reached), ("completed", self.completed),
                ("rated", len(self.ratings))]

    def summary(self) -> dict[str, Any]:
        """The headline numbers, in report order (also the CSV rows)."""
        return {
            "targets": self.targets, "dialled": self.dialled, "attempts": self.attempts,
            "reached": self.reached, "reach_rate": self.reach_rate,
            "completed": self.completed, "completion_rate": self.completion_rate,
            "rated": len(self.ratings), "average_rating": self.average_rating,
            "escalated": self.escalated, "escalation_rate": self.escalation_rate,
            "voicemail": self.voicemail, "busy": self.busy, "no_answer": self.no_answer,
            "fallback_sms": self.fallback_sms, "fallback_email": self.fallback_email,
            "followups_open": self.followups_open, "offers_made": self.offers_made,
            "offers_accepted": self.offers_accepted, "rewards_granted": self.rewards_granted,
        }


def topic_name(item: object) -> str | None:
    """FAQ topics are stored as strings or small objects (``{"topic": ...}``)."""
    if isinstance(item, str):
        return item or None
    if isinstance(item, Mapping):
        for key in ("topic", "name", "id"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
    return None


def rating_of(details: Mapping[str, Any]) -> int | None:
    value = details.get("rating")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def reaching_attempts(attempts: Sequence[Attempt]) -> dict[str, Attempt]:
    """Per customer, the last attempt a person answered."""
    out: dict[str, Attempt] = {}
    for a in attempts:
        if a.state is AttemptState.COMPLETED:
            out[a.customer_id] = a
    return out


def compute(targets: Sequence[Target], attempts: Sequence[Attempt],
            calls: Mapping[str, CallRecord], turns: Mapping[str, Sequence[TurnRecord]],
            followups_open: int = 0) -> CampaignMetrics:
    m = CampaignMetrics(targets=len(targets), attempts=len(attempts),
                        followups_open=followups_open)
    m.dialled = sum(1 for t in targets if t.attempts > 0)
    for t in targets:
        m.target_states[t.state.value] += 1
        if t.state in (TargetState.SKIPPED, TargetState.FAILED) and t.reason:
            m.skip_reasons[f"{t.state.value}:{t.reason}"] += 1
        if t.state is TargetState.FALLBACK and t.fallback_channel == "sms":
            m.fallback_sms += 1
        if t.state is TargetState.FALLBACK and t.fallback_channel == "email":
            m.fallback_email += 1
    for a in attempts:
        m.voicemail += a.state is AttemptState.VOICEMAIL
        m.busy += a.state is AttemptState.BUSY
        m.no_answer += a.state is AttemptState.NO_ANSWER
    reaching = reaching_attempts(attempts)
    m.reached = len(reaching)
    for attempt in reaching.values():
        call = calls.get(attempt.call_sid or "")
        outcome = (call.outcome.value if call and call.outcome else None) or attempt.outcome
        m.outcomes[outcome or "unknown"] += 1
        m.completed += outcome == "completed"
        if call is None:
            continue
        _add_call(m, call, outcome)
    for sid, call_turns in turns.items():
        if sid in calls:
            m.latencies_ms += [t.latency_ms for t in call_turns
                               if t.role is Role.BOT and t.latency_ms is not None]
    return m


def _add_call(m: CampaignMetrics, call: CallRecord, outcome: str | None) -> None:
    details = call.details
    rating = rating_of(details)
    if rating is not None:
        m.ratings.append(rating)
    if outcome == "escalated" or call.escalation_reason:
        m.escalated += 1
        m.escalation_reasons[call.escalation_reason or "unspecified"] += 1
    for item in details.get("faq_topics") or []:
        name = topic_name(item)
        if name:
            m.faq_topics[name] += 1
    if details.get("offer") in ("accepted", "declined"):
        m.offers_made += 1
        m.offers_accepted += details.get("offer") == "accepted"
    if details.get("reward"):
        m.rewards_granted += 1
