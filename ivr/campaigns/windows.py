"""Local calling windows: is now a good time to call this customer, and if not, when?

Pure functions of (time, time zone, policy). Times of day are the customer's wall clock;
comparisons happen in UTC, so daylight-saving days work.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.campaigns.policy import Policy, Window
from ivr.customers.model import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)
SEARCH_DAYS = 400


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; using %s", name, DEFAULT_TIMEZONE)
        return ZoneInfo(DEFAULT_TIMEZONE)


def day_kind(policy: Policy, day: date) -> str:
    """``workday``, ``weekend`` or ``holiday`` (make-up working days count as workdays)."""
    if day in policy.workdays:
        return "workday"
    if day in policy.holidays:
        return "holiday"
    return "weekend" if day.weekday() in policy.weekend_days else "workday"


def windows_for(policy: Policy, day: date) -> tuple[Window, ...]:
    kind = day_kind(policy, day)
    if kind == "holiday":
        return policy.holiday_windows
    return policy.weekend_windows if kind == "weekend" else policy.windows


def _spans(policy: Policy, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return [((midnight + timedelta(minutes=a)).astimezone(UTC),
             (midnight + timedelta(minutes=b)).astimezone(UTC))
            for a, b in windows_for(policy, day)]


def in_window(now: datetime, timezone: str, policy: Policy) -> bool:
    tz = zone(timezone)
    local = now.astimezone(tz).date()
    return any(start <= now < end for start, end in _spans(policy, local, tz))


def next_call_time(now: datetime, timezone: str, policy: Policy) -> datetime | None:
    """``now`` if inside a calling window, else the next window's start (UTC); None if the
    policy allows no calls at all in the next ``SEARCH_DAYS`` days."""
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    for offset in range(SEARCH_DAYS):
        for start, end in _spans(policy, today + timedelta(days=offset), tz):
            if start <= now < end:
                return now
            if start > now:
                return start
    return None
