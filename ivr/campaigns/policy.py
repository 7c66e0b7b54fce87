"""A campaign's rules for when and how often to call, stored with the campaign as JSON.

Calling windows are local times of day in the customer's own time zone, written as
``"12:00-13:30,18:30-21:00"`` (the defaults avoid typical working hours). Weekend days use
``weekend_windows``, holidays ``holiday_windows`` (empty: no calls that day); ``workdays``
lists make-up working days that fall on a weekend (they use the weekday windows).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

Window = tuple[int, int]  # minutes after local midnight: [start, end)
WINDOW_FIELDS = ("windows", "weekend_windows", "holiday_windows")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
VOICEMAIL_ACTIONS = ("hangup", "message")


class PolicyError(ValueError):
    """An invalid policy value; the message names the field."""


def parse_windows(text: str, name: str = "windows") -> tuple[Window, ...]:
    """``"09:00-12:00,18:30-21:00"`` → ((540, 720), (1110, 1260)); ``""`` → ()."""
    out: list[Window] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise PolicyError(f"{name}: {part!r} is not HH:MM-HH:MM")
        window = (_minutes(start, name), _minutes(end, name))
        if window[0] >= window[1]:
            raise PolicyError(f"{name}: {part!r} ends before it starts")
        out.append(window)
    return tuple(sorted(out))


def _minutes(text: str, name: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    try:
        value = int(hours) * 60 + (int(minutes) if sep else 0)
    except ValueError:
        raise PolicyError(f"{name}: {text!r} is not a time HH:MM") from None
    if not 0 <= value <= 24 * 60 or (sep and not 0 <= int(minutes) < 60):
        raise PolicyError(f"{name}: {text!r} is out of range")
    return value


def format_windows(windows: tuple[Window, ...]) -> str:
    return ",".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in windows)


def parse_dates(value: object, name: str) -> tuple[date, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise PolicyError(f"{name}: expected a list of dates")
    try:
        return tuple(sorted({date.fromisoformat(str(d).strip()) for d in items if str(d).strip()}))
    except ValueError as err:
        raise PolicyError(f"{name}: {err}") from None


def parse_days(value: object, name: str = "weekend_days") -> tuple[int, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise PolicyError(f"{name}: expected day names like sat,sun")
    days: set[int] = set()
    for item in items:
        key = str(item).strip().lower()[:3]
        if key not in DAY_NAMES:
            raise PolicyError(f"{name}: unknown day {item!r}")
        days.add(DAY_NAMES.index(key))
    return tuple(sorted(days))


@dataclass(frozen=True, slots=True)
class Policy:
    windows: tuple[Window, ...] = ((12 * 60, 13 * 60 + 30), (18 * 60 + 30, 21 * 60))
    weekend_windows: tuple[Window, ...] = ((10 * 60, 12 * 60), (14 * 60, 20 * 60))
    weekend_days: tuple[int, ...] = (5, 6)
    holidays: tuple[date, ...] = ()
    holiday_windows: tuple[Window, ...] = ()
    workdays: tuple[date, ...] = ()
    max_attempts: int = 3
    retry_backoff_s: float = 3600.0
    retry_backoff_factor: float = 2.0
    retry_backoff_max_s: float = 86400.0
    # A customer whose pre-review passed less than this many days ago is a "new user":
    # called at most ``new_user_max_calls`` times in all; others at most
    # ``max_calls_per_period`` campaigns per ``period_days``.
    new_user_days: int = 30
    new_user_max_calls: int = 1
    max_calls_per_period: int = 2
    period_days: int = 30
    machine_detection: bool = True
    max_concurrent: int = 5
    calls_per_second: float = 1.0
    reward: str = ""  # passed to the call as ``campaign_reward`` (points or coupon text)
    # On an answering machine: "hangup" (default) or "message": leave voicemail_message (zh
    # customers) / voicemail_message_en, a short text that names the company and gives a
    # call-back number and never personal data (it is one text for every customer).
    voicemail: str = "hangup"
    voicemail_message: str = ""
    voicemail_message_en: str = ""
    survey_url: str = "https://survey.example.com/s/{token}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in WINDOW_FIELDS:
                value = format_windows(value)
            elif f.name in ("holidays", "workdays"):
                value = [d.isoformat() for d in value]
            elif f.name == "weekend_days":
                value = [DAY_NAMES[d] for d in value]
            out[f.name] = value
        return out

    def updated(self, raw: dict[str, Any]) -> Policy:
        """A copy with the JSON-style values in ``raw`` applied and validated."""
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise PolicyError(f"unknown policy field(s): {', '.join(unknown)}")
        changes: dict[str, Any] = {
            name: _coerce(name, getattr(self, name), value) for name, value in raw.items()}
        policy = dataclasses.replace(self, **changes)
        policy.check()
        return policy

    def check(self) -> None:
        positive = ("max_attempts", "max_concurrent", "new_user_max_calls",
                    "max_calls_per_period", "period_days", "calls_per_second")
        for name in positive:
            if getattr(self, name) <= 0:
                raise PolicyError(f"{name}: must be positive")
        if self.retry_backoff_s < 0 or self.retry_backoff_factor < 1:
            raise PolicyError("retry_backoff_s must be >= 0 and retry_backoff_factor >= 1")
        if self.new_user_days < 0:
            raise PolicyError("new_user_days: must not be negative")
        if "{token}" not in self.survey_url:
            raise PolicyError("survey_url: must contain {token}")
        if self.voicemail not in VOICEMAIL_ACTIONS:
            raise PolicyError(f"voicemail: one of {', '.join(VOICEMAIL_ACTIONS)}")
        if self.voicemail == "message":
            for name in ("voicemail_message", "voicemail_message_en"):
                text = getattr(self, name)
                if not text.strip() or len(text) > 300 or "{" in text:
                    raise PolicyError(f"{name}: a fixed text of 1..300 characters is needed "
                                      "when voicemail is 'message'")


def _coerce(name: str, current: object, value: object) -> object:
    if name in WINDOW_FIELDS:
        if not isinstance(value, str):
            raise PolicyError(f"{name}: expected text like 18:30-21:00")
        return parse_windows(value, name)
    if name in ("holidays", "workdays"):
        return parse_dates(value, name)
    if name == "weekend_days":
        return parse_days(value, name)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise PolicyError(f"{name}: expected true or false")
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(f"{name}: expected a whole number")
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyError(f"{name}: expected a number")
        return float(value)
    if not isinstance(value, str):
        raise PolicyError(f"{name}: expected text")
    return value


def policy_from_json(raw: dict[str, Any]) -> Policy:
    return Policy().updated(raw)
