"""Campaign rows <-> records, and the small SQL pieces the campaign store builds from them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from ivr.campaigns.model import (
    Attempt,
    AttemptState,
    Campaign,
    CampaignState,
    Purpose,
    Rule,
    RuleKind,
    Target,
    TargetState,
)
from ivr.campaigns.policy import PolicyError, policy_from_json
from ivr.core.errors import StoreError
from ivr.store.codec import time_from_db
from ivr.store.db import Row

CAMPAIGN_TIMES = ("created_at", "updated_at", "started_at", "finished_at", "ends_at",
                  "rules_checked_at")
TARGET_FIELDS = frozenset({"state", "attempts", "next_at", "reason", "last_outcome",
                           "fallback_channel", "fallback_ref", "fallback_token"})
ATTEMPT_FIELDS = frozenset({"state", "call_sid", "answered_by", "outcome", "voicemail_action",
                            "error", "dialed_at", "answered_at", "ended_at"})


def campaign_from(row: Row) -> Campaign:
    try:
        rules = tuple(Rule(kind=RuleKind(r["kind"]), days=int(r["days"]),
                           within_days=int(r["within_days"]),
                           min_amount=float(r["min_amount"]))
                      for r in json.loads(row["rules"]))
        times = {name: time_from_db(row[name]) for name in CAMPAIGN_TIMES}
        return Campaign(id=row["id"], name=row["name"], purpose=Purpose(row["purpose"]),
                        rules=rules, policy=policy_from_json(json.loads(row["policy"])),
                        state=CampaignState(row["state"]), **times)
    except (ValueError, TypeError, KeyError, PolicyError) as err:
        raise StoreError(f"corrupt campaign row {row['id']!r}: {err}") from err


def target_from(row: Row) -> Target:
    try:
        created, updated = time_from_db(row["created_at"]), time_from_db(row["updated_at"])
        assert created is not None and updated is not None
        return Target(
            campaign_id=row["campaign_id"], customer_id=row["customer_id"],
            source=row["source"], state=TargetState(row["state"]),
            attempts=int(row["attempts"]), next_at=time_from_db(row["next_at"]),
            created_at=created, updated_at=updated, reason=row["reason"],
            last_outcome=row["last_outcome"], fallback_channel=row["fallback_channel"],
            fallback_ref=row["fallback_ref"], fallback_token=row["fallback_token"],
            lease_owner=row["lease_owner"], lease_until=time_from_db(row["lease_until"]))
    except (ValueError, TypeError, AssertionError) as err:
        raise StoreError(f"corrupt campaign target {row['customer_id']!r}: {err}") from err


def attempt_from(row: Row) -> Attempt:
    try:
        created = time_from_db(row["created_at"])
        assert created is not None
        return Attempt(
            id=row["id"], campaign_id=row["campaign_id"], customer_id=row["customer_id"],
            attempt_no=int(row["attempt_no"]), state=AttemptState(row["state"]),
            created_at=created, call_sid=row["call_sid"], answered_by=row["answered_by"],
            outcome=row["outcome"], voicemail_action=row["voicemail_action"],
            error=row["error"], dialed_at=time_from_db(row["dialed_at"]),
            answered_at=time_from_db(row["answered_at"]), ended_at=time_from_db(row["ended_at"]),
            worker=row["worker"], line_released_at=time_from_db(row["line_released_at"]))
    except (ValueError, TypeError, AssertionError) as err:
        raise StoreError(f"corrupt campaign attempt {row['id']!r}: {err}") from err


def sql_in(states: Sequence[StrEnum]) -> str:
    return ", ".join(f"'{s.value}'" for s in states)


def set_clause(fields: dict[str, Any], allowed: frozenset[str]) -> tuple[str, list[Any]]:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise StoreError(f"unknown field(s): {', '.join(unknown)}")
    return ", ".join(f"{name} = ?" for name in fields), list(fields.values())
