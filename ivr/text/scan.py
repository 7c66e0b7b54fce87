"""Phrase spotting on normalised text: leftmost-longest, whole words for latin phrases.

Parsers describe their vocabulary as tables (phrase → value) and read the matches in order;
negation is looked for in the few words before a match, inside the same clause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from ivr.text.normalize import normalize

V = TypeVar("V")

_WORD = re.compile(r"[a-z0-9']")
# Clause breaks: punctuation and the conjunctions that start a new thought.
CLAUSE = re.compile(r"[,.;!?、。，；！？]|\b(?:but|though|however)\b|但是|不过|可是")

ZH_NEGATORS = ("并不是", "不是很", "不是", "不怎么", "不那么", "不算", "不太", "不大", "并不",
               "没有", "没那么", "没", "不", "谈不上", "称不上")
EN_NEGATORS = ("not", "never", "hardly", "barely", "isn't", "wasn't", "aren't", "weren't",
               "don't", "doesn't", "didn't", "ain't", "won't", "can't", "couldn't", "not really")


def prepare(text: str) -> str:
    """Normalised, lower-case, typographic apostrophes made plain (same length per char)."""
    return normalize(text).lower().replace("’", "'").replace("‘", "'")


@dataclass(frozen=True, slots=True)
class Match(Generic[V]):
    start: int
    end: int
    phrase: str
    value: V


def _latin(phrase: str) -> bool:
    return any("a" <= ch <= "z" for ch in phrase)


def _bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not _WORD.match(before) and not _WORD.match(after)


def scan(text: str, table: Mapping[str, V]) -> list[Match[V]]:
    """Non-overlapping matches of ``table``'s phrases in prepared ``text``, left to right,
    the longest phrase winning at each position."""
    phrases = sorted(table, key=len, reverse=True)
    out: list[Match[V]] = []
    i = 0
    while i < len(text):
        for phrase in phrases:
            end = i + len(phrase)
            if text.startswith(phrase, i) and (not _latin(phrase) or _bounded(text, i, end)):
                out.append(Match(i, end, phrase, table[phrase]))
                i = end
                break
        else:
            i += 1
    return out


def clause_start(text: str, pos: int) -> int:
    start = 0
    for m in CLAUSE.finditer(text, 0, pos):
        start = m.end()
    return start


def negated(text: str, start: int) -> bool:
    """Is the phrase at ``start`` negated ("不太满意", "not really satisfied", "wasn't good")?"""
    head = text[clause_start(text, start):start]
    if _latin(text[start:start + 1]) or (head.strip() and _latin(head.strip()[-1:])):
        words = re.findall(r"[a-z0-9']+", head)[-3:]
        return any(w in EN_NEGATORS or w.endswith("n't") for w in words) or bool(
            words and words[-1] == "no")
    tail = head.rstrip()[-4:]
    # a degree word may sit between the negator and the phrase ("不是很", "不太", "没那么")
    for degree in ("", "很", "太", "怎么", "那么", "是很", "是太", "够", "大", "算", "是", "十分",
                   "非常", "特别"):
        cut = tail[: len(tail) - len(degree)] if degree and tail.endswith(degree) else (
            tail if not degree else None)
        if cut is None:
            continue
        if any(cut.endswith(n) for n in ZH_NEGATORS):
            return True
    return False
