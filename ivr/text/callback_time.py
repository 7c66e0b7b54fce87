"""When the caller wants to be called back, from their words ("明天上午", "下午三点以后", "after
6 pm", "next Monday", "周末", "晚点") on normalised text.

:func:`parse_callback_time` turns the words into a :class:`Wish` (which day, which part of the
day, from what time); :func:`ivr.text.callback_slot.resolve` places it in the customer's time
zone and calling windows. Standard library only (the Rasa processes import this package).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class DayPart(StrEnum):
    MORNING = "morning"
    NOON = "noon"
    AFTERNOON = "afternoon"
    EVENING = "evening"


# Local minutes after midnight [start, end) each part of the day means.
PART_SPANS: dict[DayPart, tuple[int, int]] = {
    DayPart.MORNING: (8 * 60, 12 * 60),
    DayPart.NOON: (11 * 60 + 30, 13 * 60 + 30),
    DayPart.AFTERNOON: (12 * 60, 18 * 60),
    DayPart.EVENING: (18 * 60, 22 * 60),
}


@dataclass(frozen=True, slots=True)
class Wish:
    """What the caller asked for. ``days``: days from today (0 today, 1 tomorrow);
    ``weekday``: 0 = Monday (the next one, or the one of next week with ``next_week``);
    ``weekend``: the coming Saturday or Sunday; ``after_min``: a clock time (minutes after
    midnight): about then, or any time after it with ``open_end``; ``in_min``: "later",
    minutes from now."""

    days: int | None = None
    weekday: int | None = None
    next_week: bool = False
    weekend: bool = False
    part: DayPart | None = None
    after_min: int | None = None
    in_min: int | None = None
    open_end: bool = False  # "三点以后" / "after 6": any time after that, that day


_ZH_NUM = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9, "十": 10}
_EN_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "noon": 12}
_ZH_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EN_WEEKDAY = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
               "saturday": 5, "sunday": 6}

_DAY_WORDS: tuple[tuple[str, int], ...] = (
    ("大后天", 3), ("后天", 2), ("明天", 1), ("明儿", 1), ("今天", 0), ("今晚", 0),
    ("day after tomorrow", 2), ("tomorrow", 1), ("today", 0), ("tonight", 0),
)
_PART_WORDS: tuple[tuple[str, DayPart], ...] = (
    ("上午", DayPart.MORNING), ("早上", DayPart.MORNING), ("早晨", DayPart.MORNING),
    ("中午", DayPart.NOON), ("下午", DayPart.AFTERNOON), ("晚上", DayPart.EVENING),
    ("今晚", DayPart.EVENING), ("傍晚", DayPart.EVENING),
    ("morning", DayPart.MORNING), ("lunchtime", DayPart.NOON), ("lunch", DayPart.NOON),
    ("afternoon", DayPart.AFTERNOON), ("evening", DayPart.EVENING), ("tonight", DayPart.EVENING),
    ("night", DayPart.EVENING),
)
_LATER_WORDS: tuple[tuple[str, int], ...] = (
    ("半小时", 30), ("半个小时", 30), ("half an hour", 30), ("两个小时", 120), ("两小时", 120),
    ("two hours", 120), ("一小时", 60), ("一个小时", 60), ("an hour", 60), ("one hour", 60),
    ("晚点", 60), ("晚一点", 60), ("一会", 60), ("待会", 60), ("等会", 60), ("稍后", 60),
    ("later", 60), ("a bit", 60),
)
_AFTER_WORDS = ("以后", "之后", "过后", "后再", "after", "later than", "any time from")
_ZH_CLOCK = re.compile(r"([零一二两三四五六七八九十]{1,3}|\d{1,2})\s*(?:点|點|:|：)\s*"
                       r"(半|一刻|[零一二三四五六七八九十]{1,3}分?|\d{1,2}分?)?")
_EN_CLOCK = re.compile(r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                       r"twelve|noon)(?:[:.](\d{2}))?\s*(a\.?\s?m\.?|p\.?\s?m\.?|o'?clock)?"
                       r"(?=\W|$)")
_EN_CLOCK_CUE = re.compile(r"\b(?:at|after|around|about|from|by|past)\s+$")


def _zh_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _ZH_NUM.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _ZH_NUM.get(tens, 0) * 10 + _ZH_NUM.get(ones, 0)
    return _ZH_NUM.get(text)


def _to_24h(hour: int, part: DayPart | None, pm: bool | None) -> int:
    if pm is True or (pm is None and part in (DayPart.AFTERNOON, DayPart.EVENING)):
        return hour + 12 if hour < 12 else hour
    if pm is None and part is None and 1 <= hour <= 7:
        return hour + 12  # nobody asks for a call at 3 in the night: "三点" is 15:00
    return 0 if pm is False and hour == 12 else hour


def _clock(text: str, part: DayPart | None) -> int | None:
    """Minutes after midnight of a clock time in the words, or None."""
    m = _ZH_CLOCK.search(text)
    if m:
        hour = _zh_number(m.group(1))
        minute_text = (m.group(2) or "").rstrip("分")
        minute = 30 if minute_text == "半" else 15 if minute_text == "一刻" else \
            (_zh_number(minute_text) or 0) if minute_text else 0
        if hour is not None and 0 <= hour <= 24 and 0 <= minute < 60:
            return (_to_24h(hour, part, None) % 24) * 60 + minute
    for m in _EN_CLOCK.finditer(text):
        suffix = (m.group(3) or "").replace(".", "").replace(" ", "")
        if not suffix and not _EN_CLOCK_CUE.search(text[:m.start()]):
            continue  # a bare number ("in 2 days") is no clock time
        word = m.group(1)
        hour = int(word) if word.isdigit() else _EN_NUM[word]
        minute = int(m.group(2) or 0)
        pm = True if suffix == "pm" else False if suffix == "am" else None
        if 0 <= hour <= 24 and minute < 60:
            return (_to_24h(hour, part, pm) % 24) * 60 + minute
    return None


def _day(text: str) -> dict[str, object]:
    for word, days in _DAY_WORDS:
        if word in text:
            return {"days": days}
    m = re.search(r"(下下|下个?)?(?:周|星期|礼拜)([一二三四五六日天])", text)
    if m:
        return {"weekday": _ZH_WEEKDAY[m.group(2)], "next_week": bool(m.group(1))}
    m = re.search(r"\b(next\s+|this\s+)?(" + "|".join(_EN_WEEKDAY) + r")\b", text)
    if m:
        return {"weekday": _EN_WEEKDAY[m.group(2)],
                "next_week": (m.group(1) or "").strip() == "next"}
    if any(w in text for w in ("周末", "礼拜六日", "weekend")):
        return {"weekend": True}
    if any(w in text for w in ("下周", "下个星期", "下星期", "下礼拜", "next week")):
        return {"weekday": 0, "next_week": True}
    return {}


def parse_callback_time(text: str) -> Wish | None:
    """The caller's wish, or None when the words name no time at all."""
    low = " ".join(text.lower().split())
    part = next((p for w, p in _PART_WORDS if w in low), None)
    day = _day(low)
    after = _clock(low, part)
    later = next((m for w, m in _LATER_WORDS if w in low), None)
    if after is not None and part is None:
        part = next((p for p, (a, b) in PART_SPANS.items() if a <= after < b), None)
    if not day and part is None and after is None and later is None:
        return None
    if day or part is not None or after is not None:
        later = None  # "明天晚点" is tomorrow, not in an hour
    open_end = after is not None and any(w in low for w in _AFTER_WORDS)
    return Wish(part=part, after_min=after, in_min=later, open_end=open_end,
                days=day.get("days"),  # type: ignore[arg-type]
                weekday=day.get("weekday"),  # type: ignore[arg-type]
                next_week=bool(day.get("next_week")), weekend=bool(day.get("weekend")))
