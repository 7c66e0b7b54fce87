"""Closed-vocabulary grammars per language and dialogue expectation, fitted to a model's words.

Phrases are data. :func:`grammar_for` keeps only phrases the model can spell: every
space-separated token must be a vocabulary word, except that a Chinese token may also be split
into vocabulary words (``五分`` → ``五 分`` when the model has no ``五分``). ``[unk]`` is always
added so out-of-grammar speech has somewhere to go.
"""

from __future__ import annotations

from collections.abc import Iterable

from ivr.core.types import Expectation, Language

UNK = "[unk]"

# Phrases accepted in every closed grammar: what a caller may say at any question — asking
# for an agent or a repeat, complaining, or reporting fraud (each escalates in the dialogue).
_CONTROL: dict[Language, tuple[str, ...]] = {
    Language.ZH: (
        "转人工", "人工", "人工客服", "人工服务", "找人工", "客服",
        "再说一遍", "再说一次", "重复一遍", "没听清", "什么",
        "投诉", "我要投诉", "被盗", "账户被盗", "被盗刷",
    ),
    Language.EN: (
        "agent", "an agent", "representative", "a representative", "person", "a person",
        "human", "operator", "speak to an agent", "talk to a person", "customer service",
        "repeat", "repeat that", "say again", "say that again", "pardon", "sorry", "what",
        "complaint", "i want to complain", "stolen", "account stolen", "fraud",
    ),
}

_PHRASES: dict[Language, dict[Expectation, tuple[str, ...]]] = {
    Language.ZH: {
        Expectation.YES_NO: (
            "是", "是的", "对", "对的", "没错", "确认", "好的", "好", "可以", "行", "嗯",
            "没问题", "没有问题", "有",
            "不是", "不对", "不", "不用", "不用了", "不要", "没有", "不可以", "不行",
            "不方便", "打错了", "晚点再打",
        ),
        Expectation.DIGITS: (
            "零", "〇", "一", "幺", "二", "两", "三", "四", "五", "六", "七", "八", "九",
        ),
        Expectation.RATING: (
            "一", "二", "两", "三", "四", "五",
            "一分", "二分", "两分", "三分", "四分", "五分",
            "一星", "二星", "两星", "三星", "四星", "五星",
            "非常满意", "很满意", "满意", "还可以", "一般", "不满意", "很不满意", "非常不满意",
        ),
    },
    Language.EN: {
        Expectation.YES_NO: (
            "yes", "yeah", "yep", "yes please", "sure", "okay", "ok", "correct",
            "that's correct", "right", "that's right", "of course",
            "no", "nope", "no thanks", "not really", "wrong", "not now", "busy", "later",
            "wrong number",
        ),
        Expectation.DIGITS: (
            "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        ),
        Expectation.RATING: (
            "one", "two", "three", "four", "five",
            "one star", "two stars", "three stars", "four stars", "five stars",
            "very satisfied", "satisfied", "neutral", "okay", "not satisfied", "unsatisfied",
            "dissatisfied", "very unsatisfied", "very dissatisfied",
            "excellent", "very good", "good", "bad", "very bad", "poor",
        ),
    },
}


def phrases(lang: Language, expect: Expectation) -> tuple[str, ...]:
    """Unfiltered phrases for a closed expectation (empty for ``OPEN``)."""
    table = _PHRASES[lang]
    if expect not in table:
        return ()
    return table[expect] + _CONTROL[lang]


def _is_cjk(token: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or ch == "〇" for ch in token)


def _segment(token: str, vocabulary: frozenset[str]) -> list[str] | None:
    """Split ``token`` into the fewest vocabulary words, or None if impossible."""
    best: list[list[str] | None] = [[]] + [None] * len(token)
    for end in range(1, len(token) + 1):
        for start in range(end):
            head = best[start]
            piece = token[start:end]
            if head is not None and piece in vocabulary:
                candidate = [*head, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(token)]


def fit_phrase(phrase: str, vocabulary: frozenset[str]) -> str | None:
    """Rewrite ``phrase`` in the model's words, or None if some token cannot be spelled."""
    out: list[str] = []
    for token in phrase.lower().split():
        if token in vocabulary:
            out.append(token)
            continue
        pieces = _segment(token, vocabulary) if _is_cjk(token) else None
        if pieces is None:
            return None
        out.extend(pieces)
    return " ".join(out) if out else None


def fit_phrases(candidates: Iterable[str], vocabulary: frozenset[str]) -> list[str]:
    """Fitted phrases, de-duplicated in order, plus ``[unk]``."""
    seen: dict[str, None] = {}
    for phrase in candidates:
        fitted = fit_phrase(phrase, vocabulary)
        if fitted is not None:
            seen.setdefault(fitted, None)
    seen.pop(UNK, None)
    return [*seen, UNK]


def grammar_for(
    lang: Language, expect: Expectation, vocabulary: frozenset[str]
) -> list[str] | None:
    """The grammar for this state, or None for open vocabulary.

    None also when no phrase fits the model, so the caller is never limited to ``[unk]``.
    An empty ``vocabulary`` (unknown) keeps every phrase; libvosk skips words it lacks.
    """
    candidates = phrases(lang, expect)
    if not candidates:
        return None
    if not vocabulary:
        return [*dict.fromkeys(candidates), UNK]
    fitted = fit_phrases(candidates, vocabulary)
    return fitted if len(fitted) > 1 else None
