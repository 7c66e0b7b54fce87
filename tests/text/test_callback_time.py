"""Callback times: the caller's words -> a due time in the customer's zone and calling windows,
with an injected "now" (tables across days, windows, zones), and the read-back phrase."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.text.callback_slot import resolve, say_time
from ivr.text.callback_time import DayPart, Wish, parse_callback_time

SH = "Asia/Shanghai"
NY = "America/New_York"
# weekdays 12:00-13:30 and 18:30-21:00; weekends 10:00-12:00 and 14:00-20:00
WEEKDAY = [(720, 810), (1110, 1260)]
WEEKEND = [(600, 720), (840, 1200)]


def windows(day: date) -> list[tuple[int, int]]:
    return WEEKDAY if day.weekday() < 5 else WEEKEND


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


FRI_10 = local(SH, 2026, 12, 4, 10, 0)  # a Friday morning
FRI_19 = local(SH, 2026, 12, 4, 19, 0)  # Friday evening, inside a window
SAT_13 = local(SH, 2026, 12, 5, 13, 0)  # Saturday, between the weekend windows
SUN_21 = local(SH, 2026, 12, 6, 21, 0)  # Sunday night, after the last window


@pytest.mark.parametrize(("words", "wish"), [
    ("明天上午", Wish(days=1, part=DayPart.MORNING)),
    ("下午三点以后", Wish(part=DayPart.AFTERNOON, after_min=900, open_end=True)),
    ("下午三点半", Wish(part=DayPart.AFTERNOON, after_min=930)),
    ("after 6 pm", Wish(part=DayPart.EVENING, after_min=1080, open_end=True)),
    ("next monday", Wish(weekday=0, next_week=True)),
    ("周三下午", Wish(weekday=2, part=DayPart.AFTERNOON)),
    ("下周一", Wish(weekday=0, next_week=True)),
    ("下周", Wish(weekday=0, next_week=True)),
    ("周末", Wish(weekend=True)),
    ("at the weekend", Wish(weekend=True)),
    ("晚点", Wish(in_min=60)),
    ("in half an hour", Wish(in_min=30)),
    ("明天晚点", Wish(days=1)),
    ("tomorrow at 10 am", Wish(days=1, part=DayPart.MORNING, after_min=600)),
    ("后天晚上八点", Wish(days=2, part=DayPart.EVENING, after_min=1200)),
    ("tonight", Wish(days=0, part=DayPart.EVENING)),
    ("两点", Wish(part=DayPart.AFTERNOON, after_min=840)),
    ("in 2 days", None),  # a bare number is no clock time
    ("随便吧", None),
    ("", None),
])
def test_words_to_wish(words: str, wish: Wish | None) -> None:
    assert parse_callback_time(words) == wish


@pytest.mark.parametrize(("words", "now", "zone", "expected", "as_asked"), [
    # Friday 10:00 Shanghai
    ("明天上午", FRI_10, SH, local(SH, 2026, 12, 5, 10, 0), True),  # Saturday window
    ("下午三点以后", FRI_10, SH, local(SH, 2026, 12, 4, 18, 30), True),  # today's evening window
    ("after 6 pm", FRI_10, SH, local(SH, 2026, 12, 4, 18, 30), True),
    ("晚点", FRI_10, SH, local(SH, 2026, 12, 4, 12, 0), True),  # the lunch window
    ("next monday", FRI_10, SH, local(SH, 2026, 12, 7, 12, 0), True),
    ("周三下午", FRI_10, SH, local(SH, 2026, 12, 9, 12, 0), True),
    ("周末", FRI_10, SH, local(SH, 2026, 12, 5, 10, 0), True),
    ("随便", FRI_10, SH, local(SH, 2026, 12, 5, 10, 0), True),  # no time: this time tomorrow
    # Friday 19:00, already inside a window: "later" is within the hour
    ("晚点", FRI_19, SH, local(SH, 2026, 12, 4, 20, 0), True),
    ("明天上午", FRI_19, SH, local(SH, 2026, 12, 5, 10, 0), True),
    # Saturday 13:00: "today in the morning" is over -> not as asked, next window
    ("今天上午", SAT_13, SH, local(SH, 2026, 12, 5, 14, 0), False),
    ("周末", SAT_13, SH, local(SH, 2026, 12, 5, 14, 0), True),
    # Sunday 21:00: "tomorrow morning" is a Monday: no morning window -> Monday lunch
    ("明天上午", SUN_21, SH, local(SH, 2026, 12, 7, 12, 0), False),
    ("周末", SUN_21, SH, local(SH, 2026, 12, 12, 10, 0), True),  # next weekend
    ("晚点", SUN_21, SH, local(SH, 2026, 12, 7, 12, 0), False),
    # New York customer, "now" given in UTC: Friday 10:00 New York
    ("after 6 pm", datetime(2026, 12, 4, 15, 0, tzinfo=UTC), NY,
     local(NY, 2026, 12, 4, 18, 30), True),
    ("tomorrow morning", datetime(2026, 12, 4, 15, 0, tzinfo=UTC), NY,
     local(NY, 2026, 12, 5, 10, 0), True),
])
def test_due_time(words: str, now: datetime, zone: str, expected: datetime,
                  as_asked: bool) -> None:
    slot = resolve(parse_callback_time(words), now.astimezone(UTC), zone, windows)
    assert slot.due_at == expected.astimezone(UTC)
    assert slot.due_at.tzinfo is UTC and slot.local.utcoffset() == expected.utcoffset()
    assert slot.as_asked is as_asked


PHRASES = ["明天上午", "下午三点以后", "after 6 pm", "next monday", "周末", "晚点", "三点",
           "tonight", "今天上午", "明天晚点", "下周", "随便", "凌晨两点", "at 7 am"]


@pytest.mark.parametrize("zone", [SH, NY, "Europe/London"])
def test_due_times_never_fall_outside_the_window(zone: str) -> None:
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # across a DST change in both zones
    for step in range(0, 24 * 30, 7):  # every 7 hours for 30 days
        now = start + timedelta(hours=step)
        for words in PHRASES:
            slot = resolve(parse_callback_time(words), now, zone, windows)
            wall = slot.due_at.astimezone(ZoneInfo(zone))
            minute = wall.hour * 60 + wall.minute
            assert any(a <= minute < b for a, b in windows(wall.date())), (words, now, wall)
            assert slot.due_at >= now


def test_no_window_at_all_is_an_error() -> None:
    with pytest.raises(ValueError):
        resolve(Wish(days=1), FRI_10, SH, lambda day: [])


@pytest.mark.parametrize(("due", "zh", "en"), [
    (local(SH, 2026, 12, 4, 18, 30), "今天晚上6点半", "today at 6:30 pm"),
    (local(SH, 2026, 12, 5, 10, 0), "明天上午10点", "tomorrow at 10 am"),
    (local(SH, 2026, 12, 6, 12, 15), "后天中午12点15分", "Sunday, December 6 at 12:15 pm"),
    (local(SH, 2026, 12, 9, 14, 0), "12月9日星期三下午2点", "Wednesday, December 9 at 2 pm"),
])
def test_read_back(due: datetime, zh: str, en: str) -> None:
    assert say_time(due, FRI_10, "zh") == zh
    assert say_time(due, FRI_10, "en") == en
