"""The ID check, decided by the IVR (pure; time passed in).

At the ID question the caller's answer -- keyed (``*`` = X) or spoken ("一 二 三 四", "four
five six ex", "...叉") -- never goes to the dialogue. The IVR compares it with the stored keyed
hash and sends only the outcome: ``/id_result{"result": ..., "attempts_left": n}`` with result
``verified`` | ``mismatch`` | ``locked`` | ``incomplete``.

Failures count per customer across calls: ``max_failures`` within ``cooldown_s`` lock the check
for ``cooldown_s`` (while locked, no answer is compared, right or wrong). An answer that is not
four characters, or spoken with low recognizer confidence, is ``incomplete`` and not counted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ivr.customers.model import IdLock

MASKED = "[****]"  # what the transcript shows for an answer to the ID question
INFORM_DIGITS = "/inform_digits"


class IdOutcome(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class IdPolicy:
    max_failures: int = 2
    cooldown_s: float = 3600.0
    min_confidence: float = 0.5


@dataclass(frozen=True, slots=True)
class IdVerdict:
    outcome: IdOutcome
    attempts_left: int
    newly_locked: bool = False

    def message(self) -> str:
        """What the dialogue receives instead of the digits."""
        body = {"result": self.outcome.value, "attempts_left": self.attempts_left}
        return "/id_result" + json.dumps(body, separators=(",", ":"))


def decide(lock: IdLock, ok: bool, now: datetime, policy: IdPolicy) -> tuple[IdLock, IdVerdict]:
    """The customer's new failure state and the verdict for one complete answer."""
    if lock.locked_until is not None and now < lock.locked_until:
        return lock, IdVerdict(IdOutcome.LOCKED, 0)
    window = timedelta(seconds=policy.cooldown_s)
    recent = lock.last_failure_at is not None and now - lock.last_failure_at <= window
    failures = lock.failures if recent and lock.locked_until is None else 0
    if ok:
        return IdLock(), IdVerdict(IdOutcome.VERIFIED, policy.max_failures)
    failures += 1
    if failures >= policy.max_failures:
        return IdLock(failures, now, now + window), IdVerdict(IdOutcome.LOCKED, 0, True)
    return IdLock(failures, now), IdVerdict(IdOutcome.MISMATCH, policy.max_failures - failures)


# ---- the caller's answer (local parser; to be replaced by ivr.text's digit parser) --------

_UNITS: dict[str, str] = {
    **{d: d for d in "0123456789"},
    **dict(zip("０１２３４５６７８９", "0123456789", strict=True)),
    "零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "x": "X", "ex": "X", "叉": "X", "ｘ": "X",
}
_TOKEN = re.compile(r"double|triple|[a-z]+|[0-9０-９]|[零〇一幺二两三四五六七八九叉ｘ]",
                    re.IGNORECASE)
_WORDS_ONLY = frozenset({"o", "x", "ex", "oh"})  # ambiguous alone: only next to real digits


def spoken_id(text: str) -> str:
    """The digits (and X) in recognizer text, in order; "" when there are none."""
    out: list[str] = []
    repeat = 1
    for token in _TOKEN.findall(text.lower()):
        if token in ("double", "triple"):
            repeat = 2 if token == "double" else 3
            continue
        unit = _UNITS.get(token)
        if unit is not None:
            out.extend(unit * repeat)
        repeat = 1
    if out and all(u in ("X", "0") for u in out) and not re.search(r"[0-9０-９]", text) and \
            all(t.lower() in _WORDS_ONLY for t in _TOKEN.findall(text) if t.isascii()):
        return ""  # "oh" or "x" alone is no ID answer
    return "".join(out)


def id_answer(message: str, text: str) -> str | None:
    """The characters given at the ID question, or None when the turn is something else (a
    keypad agent request, a repeat, nothing heard, words without digits)."""
    if message.startswith(INFORM_DIGITS):
        try:
            value = json.loads(message.removeprefix(INFORM_DIGITS)).get("digits")
        except (ValueError, AttributeError):
            return None
        return str(value) if value is not None else None
    if message.startswith("/"):
        return None
    return spoken_id(text) or None


def well_formed(given: str) -> bool:
    """Four characters: digits, the last one may be X."""
    return len(given) == 4 and given[:3].isdigit() and (given[3].isdigit() or given[3] == "X")
