"""Pure answer logic: what the recognizer text holds, when an answer is complete, and the
digits collector of the ID question (spoken and keyed digits across pauses, ``*`` = X)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from ivr.call.policy import AnswerKind

UNK = "[unk]"
_ZH_DIGITS = {"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
              "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
              "叉": "X"}
_EN_DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3",
              "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
              "x": "X", "ex": "X"}
_TOKEN = re.compile(r"[A-Za-z]+|\d|[^\sA-Za-z\d]")
# Answers to an open question that say "nothing (more)": complete as soon as they are heard.
_CLOSING = frozenset({"没有", "没有了", "没有问题", "不用了", "没了", "没事", "没事了", "没问题",
                      "no", "nothing", "nothing else", "no thanks", "none"})


def words(text: str) -> str:
    """The recognized words without ``[unk]`` markers, never starting with ``/`` (Rasa reads
    a message starting with it as an intent: a caller's words must never become one)."""
    return " ".join(w for w in text.split() if w != UNK).lstrip("/ \t")


def spoken_digits(text: str) -> str | None:
    """The digits (and X) of ``text`` when it is made only of digit words, else None.
    (A local parser: to be replaced by the shared text normaliser of ``ivr.text``.)"""
    out: list[str] = []
    tokens = _TOKEN.findall(words(text))
    for index, token in enumerate(tokens):
        low = token.lower()
        if token.isdigit():
            out.append(token)
        elif token in _ZH_DIGITS:
            out.append(_ZH_DIGITS[token])
        elif low in _EN_DIGITS:
            out.append(_EN_DIGITS[low])
        elif low == "double" and index + 1 < len(tokens):
            nxt = _EN_DIGITS.get(tokens[index + 1].lower())
            if nxt is None:
                return None
            out.append(nxt)
        else:
            return None
    return "".join(out) if out else None


def complete(kind: AnswerKind, text: str, digits_length: int = 4) -> bool:
    """Whether what was heard so far already is a whole answer of this kind."""
    heard = words(text)
    if not heard:
        return False
    if kind in (AnswerKind.YES_NO, AnswerKind.RATING):
        return True
    if kind is AnswerKind.DIGITS:
        digits = spoken_digits(heard)
        return digits is not None and len(digits) >= digits_length
    joined = heard.lower().replace(" ", "") if _cjk(heard) else heard.lower()
    return joined in _CLOSING


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class DigitsStatus(StrEnum):
    MORE = "more"  # keep collecting (inter-digit timer running)
    WHOLE = "whole"  # enough digits, or '#'
    REPEAT = "repeat"  # '#' with nothing collected: say the question again
    NOT_DIGITS = "not_digits"  # the caller said something else


@dataclass
class DigitsCollector:
    """Collects one digits answer from speech and keypad."""

    length: int = 4
    digits: str = ""
    _parts: list[str] = field(default_factory=list)
    _keyed_run: str = ""
    keyed_only: bool = True
    confidences: list[float] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.digits

    def reset(self) -> None:
        self.digits = ""
        self._parts.clear()
        self._keyed_run = ""
        self.keyed_only = True
        self.confidences.clear()

    def spoken(self, text: str, confidence: float | None) -> DigitsStatus:
        found = spoken_digits(text)
        if found is None:
            return DigitsStatus.NOT_DIGITS
        self._close_run()
        self._parts.append(words(text))
        self.keyed_only = False
        if confidence is not None:
            self.confidences.append(confidence)
        return self._add(found)

    def key(self, key: str) -> DigitsStatus:
        """One keypad press: 0-9, ``*`` (the letter X), ``#`` (done)."""
        if key == "#":
            return DigitsStatus.REPEAT if self.empty else DigitsStatus.WHOLE
        digit = "X" if key == "*" else key
        if not (digit.isdigit() or digit == "X"):
            return DigitsStatus.MORE
        self._keyed_run += digit
        return self._add(digit)

    def _add(self, found: str) -> DigitsStatus:
        self.digits += found
        return DigitsStatus.WHOLE if len(self.digits) >= self.length else DigitsStatus.MORE

    def _close_run(self) -> None:
        if self._keyed_run:
            self._parts.append(f"[{self._keyed_run}]")
            self._keyed_run = ""

    @property
    def agent_request(self) -> bool:
        """Keypad 0 alone (then a pause) means "agent"."""
        return self.keyed_only and self.digits == "0"

    def transcript(self) -> str:
        """What the caller gave, for the turn record: ``一 二 [34]``, ``[1234]``."""
        self._close_run()
        return " ".join(self._parts)

    @property
    def confidence(self) -> float | None:
        return min(self.confidences) if self.confidences else None
