"""Text preparation for speech: sentence splitting and digit-by-digit numbers."""

from __future__ import annotations

import re

from ivr.core.types import Language

# A sentence ends at a run of terminators plus any closing quotes/brackets. ASCII terminators
# count only before whitespace or the end (so "12.5", "a.m." and "e.g." stay whole); full-width
# ones end a sentence anywhere.
_CLOSERS = "\"'”’」』）)】]"
_WIDE_END = re.compile(rf"[。！？；…]+[{re.escape(_CLOSERS)}]*")
_ASCII_END = re.compile(rf"(?:[.!?;]+|…+)[{re.escape(_CLOSERS)}]*(?=\s|$)")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|vs|mr|mrs|ms|dr|approx)\.$", re.IGNORECASE)
_MIN_CHARS = {Language.ZH: 4, Language.EN: 8}  # letters/digits, not punctuation

_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_GROUPED = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DIGIT_RUN = re.compile(r"\d+")
_POINT = {Language.ZH: "点", Language.EN: " point "}


def split_sentences(text: str, lang: Language) -> list[str]:
    """Split ``text`` into sentences, keeping their punctuation; merge very short fragments."""
    pieces = _split(text.strip())
    return _merge_short(pieces, _MIN_CHARS[lang], joiner="" if lang is Language.ZH else " ")


def _split(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    ends = sorted(
        (m.end() for pattern in (_WIDE_END, _ASCII_END) for m in pattern.finditer(text)),
    )
    for end in ends:
        if end > start and not _ABBREVIATION.search(text[:end]):
            piece = text[start:end].strip()
            if piece:
                pieces.append(piece)
            start = end
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def _merge_short(pieces: list[str], min_chars: int, joiner: str) -> list[str]:
    merged: list[str] = []
    pending = ""
    for piece in pieces:
        pending = f"{pending}{joiner}{piece}" if pending else piece
        if _speakable_len(pending) >= min_chars:
            merged.append(pending)
            pending = ""
    if pending:
        if merged:
            merged[-1] = f"{merged[-1]}{joiner}{pending}"
        else:
            merged.append(pending)
    return merged


def _speakable_len(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def normalize_for_speech(text: str, lang: Language) -> str:
    """Make numbers speak digit by digit: "5678" → "5 6 7 8", "12.5" → "1 2 point 5"."""
    text = _GROUPED.sub("", text)  # "1,234" is one number
    text = _DECIMAL.sub(_POINT[lang], text)
    text = _DIGIT_RUN.sub(lambda m: " ".join(m.group()), text)
    return re.sub(r"[ \t]{2,}", " ", text)
