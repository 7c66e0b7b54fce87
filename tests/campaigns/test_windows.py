"""Calling windows per customer time zone, weekends, holidays and make-up workdays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ivr.campaigns.policy import Policy, PolicyError, parse_windows
from ivr.campaigns.windows import day_kind, in_window, next_call_time

POLICY = Policy()  # weekdays 12:00-13:30 and 18:30-21:00; weekends 10-12, 14-20


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_parse_windows_sorted_and_validated() -> None:
    assert parse_windows("18:30-21:00, 12:00-13:30") == ((720, 810), (1110, 1260))
    assert parse_windows("") == ()
    assert parse_windows("00:00-24:00") == ((0, 1440),)
    for bad in ("12-11", "25:00-26:00", "noon-1", "12:00"):
        with pytest.raises(PolicyError):
            parse_windows(bad)


def test_working_hours_are_avoided_in_shanghai() -> None:
    # Monday 2024-06-10 10:00 Shanghai (02:00 UTC): working hours → next is 12:00 local.
    now = utc(2024, 6, 10, 2, 0)
    assert not in_window(now, "Asia/Shanghai", POLICY)
    assert next_call_time(now, "Asia/Shanghai", POLICY) == utc(2024, 6, 10, 4, 0)
    lunch = utc(2024, 6, 10, 4, 30)  # 12:30 local
    assert next_call_time(lunch, "Asia/Shanghai", POLICY) == lunch
    late = utc(2024, 6, 10, 13, 0)  # 21:00 local: the window is [18:30, 21:00)
    assert next_call_time(late, "Asia/Shanghai", POLICY) == utc(2024, 6, 11, 4, 0)


def test_the_same_instant_differs_by_time_zone() -> None:
    now = utc(2024, 6, 10, 11, 0)  # 19:00 Shanghai, 07:00 New York, 12:00 London
    assert in_window(now, "Asia/Shanghai", POLICY)
    assert not in_window(now, "America/New_York", POLICY)
    assert in_window(now, "Europe/London", POLICY)
    # New York's next window: 12:00 EDT = 16:00 UTC the same day.
    assert next_call_time(now, "America/New_York", POLICY) == utc(2024, 6, 10, 16, 0)


def test_weekend_uses_weekend_windows() -> None:
    saturday_9 = utc(2024, 6, 15, 1, 0)  # Saturday 09:00 Shanghai
    assert day_kind(POLICY, date(2024, 6, 15)) == "weekend"
    assert next_call_time(saturday_9, "Asia/Shanghai", POLICY) == utc(2024, 6, 15, 2, 0)
    no_weekends = POLICY.updated({"weekend_windows": ""})
    friday_late = utc(2024, 6, 14, 13, 30)  # Friday 21:30 → Monday 12:00
    assert next_call_time(friday_late, "Asia/Shanghai", no_weekends) == utc(2024, 6, 17, 4, 0)


def test_holidays_and_makeup_workdays() -> None:
    policy = POLICY.updated({"holidays": ["2024-06-10"], "workdays": "2024-06-15"})
    assert day_kind(policy, date(2024, 6, 10)) == "holiday"
    assert day_kind(policy, date(2024, 6, 15)) == "workday"  # a Saturday worked
    monday_19 = utc(2024, 6, 10, 11, 0)
    assert not in_window(monday_19, "Asia/Shanghai", policy)
    assert next_call_time(monday_19, "Asia/Shanghai", policy) == utc(2024, 6, 11, 4, 0)
    saturday_10 = utc(2024, 6, 15, 2, 0)  # 10:00 local: weekday windows apply, not weekend
    assert next_call_time(saturday_10, "Asia/Shanghai", policy) == utc(2024, 6, 15, 4, 0)
    with_holiday_calls = policy.updated({"holiday_windows": "19:00-20:00"})
    assert in_window(monday_19, "Asia/Shanghai", with_holiday_calls)


def test_daylight_saving_change_in_new_york() -> None:
    # Sunday 2024-03-10: clocks jump 02:00 → 03:00 EST→EDT. A 10:00 local weekend window
    # opens at 14:00 UTC (EDT), not 15:00 (EST).
    before = utc(2024, 3, 10, 6, 0)
    assert next_call_time(before, "America/New_York", POLICY) == utc(2024, 3, 10, 14, 0)


def test_no_window_at_all_is_none_and_unknown_zone_falls_back() -> None:
    never = POLICY.updated({"windows": "", "weekend_windows": ""})
    assert next_call_time(utc(2024, 6, 10, 11, 0), "Asia/Shanghai", never) is None
    assert in_window(utc(2024, 6, 10, 11, 0), "Not/AZone", POLICY)  # as Asia/Shanghai
