"""Place a caller's callback wish (:mod:`ivr.text.callback_time`) in time: the customer's time
zone, the calling windows, an injected ``now``; and the phrase that reads the time back.

Pure: ``windows(day)`` gives the calling windows of a local date as [start, end) minutes after
local midnight (the campaign policy's), so this module needs no campaign code. The due time is
always inside a window: when the wish has none (a night, a holiday), the first window after
the wished time is taken and ``as_asked`` is False so the read-back says the real time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr.text.callback_time import PART_SPANS, Wish

Windows = Callable[[date], Sequence[tuple[int, int]]]
SEARCH_DAYS = 21
DAY_MIN = 24 * 60


@dataclass(frozen=True, slots=True)
class CallbackSlot:
    due_at: datetime  # UTC, inside a calling window
    local: datetime  # the same moment on the customer's wall clock
    as_asked: bool  # inside what the caller asked for

    def phrase(self, lang: str, now: datetime) -> str:
        return say_time(self.local, now.astimezone(self.local.tzinfo), lang)


def _days_wished(wish: Wish, today: date) -> list[date]:
    if wish.days is not None:
        return [today + timedelta(days=wish.days)]
    if wish.weekend:
        first = today + timedelta(days=(5 - today.weekday()) % 7)
        days = [first, first + timedelta(days=1)]
        return [today, *days] if today.weekday() == 6 else days
    if wish.weekday is not None:
        ahead = (wish.weekday - today.weekday()) % 7
        if wish.next_week:
            ahead = wish.weekday - today.weekday() + 7
        return [today + timedelta(days=ahead)]
    return [today, today + timedelta(days=1)]  # a time of day only: the next such time


def _wished_span(wish: Wish) -> tuple[int, int]:
    start, end = PART_SPANS[wish.part] if wish.part is not None else (0, DAY_MIN)
    if wish.after_min is not None:
        start = wish.after_min
        end = DAY_MIN if wish.open_end else max(end, wish.after_min + 60)
    return start, min(end, DAY_MIN)


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute)


def _first_in(day: date, lo: datetime, hi: datetime, windows: Windows,
              tz: ZoneInfo) -> datetime | None:
    """The earliest moment in [lo, hi) on ``day`` that lies in a calling window."""
    for a, b in sorted(windows(day)):
        start, end = max(_at(day, a, tz), lo), min(_at(day, b, tz), hi)
        if start < end:
            return start
    return None


def resolve(wish: Wish | None, now: datetime, timezone: str, windows: Windows) -> CallbackSlot:
    """The due time for ``wish`` (None: no time named -> this time tomorrow)."""
    tz = ZoneInfo(timezone)
    local_now = now.astimezone(tz)
    today = local_now.date()
    if wish is None:
        wish = Wish(days=1, after_min=local_now.hour * 60 + local_now.minute)
    if wish.in_min is not None:
        earliest = local_now + timedelta(minutes=wish.in_min)
        return _place(earliest, earliest + timedelta(hours=3), local_now, windows, tz)
    lo_min, hi_min = _wished_span(wish)
    days = _days_wished(wish, today)
    for day in days:
        lo = max(_at(day, lo_min, tz), local_now)
        hi = _at(day, hi_min, tz)
        found = _first_in(day, lo, hi, windows, tz)
        if found is not None:
            return _slot(found, True)
    start = max(_at(days[0], lo_min, tz), local_now)
    return _place(start, start, local_now, windows, tz)


def _place(lo: datetime, hi: datetime, local_now: datetime, windows: Windows,
           tz: ZoneInfo) -> CallbackSlot:
    """In [lo, hi) if a window allows, else the first window moment after ``lo``."""
    found = _first_in(lo.date(), lo, hi, windows, tz)
    if found is not None:
        return _slot(found, True)
    for offset in range(SEARCH_DAYS):
        day = lo.date() + timedelta(days=offset)
        found = _first_in(day, lo, _at(day, DAY_MIN, tz), windows, tz)
        if found is not None:
            return _slot(found, False)
    raise ValueError(f"no calling window in the {SEARCH_DAYS} days after {lo.isoformat()}")


def _slot(local: datetime, as_asked: bool) -> CallbackSlot:
    return CallbackSlot(local.astimezone(UTC), local, as_asked)


_ZH_WEEKDAYS = "一二三四五六日"
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def say_time(local: datetime, local_now: datetime, lang: str) -> str:
    """"明天下午6点半" / "tomorrow at 6:30 pm"; a day beyond the day after tomorrow by weekday
    and date ("12月8日星期一" / "Monday, December 8")."""
    ahead = (local.date() - local_now.date()).days
    h, m = local.hour, local.minute
    if lang == "zh":
        day = {0: "今天", 1: "明天", 2: "后天"}.get(
            ahead, f"{local.month}月{local.day}日星期{_ZH_WEEKDAYS[local.weekday()]}")
        part = "上午" if h < 11 else "中午" if h < 13 else "下午" if h < 18 else "晚上"
        hour = h if h <= 12 else h - 12
        minute = "" if m == 0 else "半" if m == 30 else f"{m}分"
        return f"{day}{part}{hour}点{minute}"
    day = {0: "today", 1: "tomorrow"}.get(
        ahead, f"{_EN_WEEKDAYS[local.weekday()]}, {_EN_MONTHS[local.month - 1]} {local.day}")
    hour12 = h % 12 or 12
    clock = f"{hour12}" if m == 0 else f"{hour12}:{m:02d}"
    return f"{day} at {clock} {'am' if h < 12 else 'pm'}"
