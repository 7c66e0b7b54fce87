"""Closed-vocabulary grammars per language and dialogue expectation, fitted to a model's words.

Phrases are data. :func:`fit_grammar` keeps only the phrases the model can spell, asking the
model's :class:`~ivr.asr.lexicon.Lexicon` (never a words file): every space-separated token must
be a model word, except that a Chinese token may be split into the fewest model words
(``五分`` → ``五 分`` when the model has no ``五分``; ``转人工`` → ``转 人工`` for a model that
segments that way). Phrases that cannot be spelled are reported, not silently dropped.

Each expectation names the answers it cannot do without (``_REQUIRED``): when any of them cannot
be spelled, or the model has no ``[unk]`` to absorb out-of-grammar speech, the question is
decoded with the open vocabulary instead of a crippled grammar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.asr.lexicon import Lexicon
from ivr.core.types import Expectation, Language

UNK = "[unk]"

# Phrases accepted in every closed grammar: what a caller may say at any question — asking
# for an agent or a repeat, complaining or angry (太差了, 我要销户, this is ridiculous),
# reporting fraud (each escalates in the dialogue), asking never to be called again (opt_out:
# do-not-call list) or for the other language (switch_to_en / switch_to_zh). Each call is decoded
# by its own language's model only, so a switch is asked for in words that model can spell: a
# Mandarin call hears "说英文"/"英语" (and "english" where a Chinese model has the word), an
# English call hears "speak chinese"/"mandarin" — not "说中文", which no English model spells.
# Both directions are in both lists: asking for the language already spoken asks again.
_CONTROL: dict[Language, tuple[str, ...]] = {
    Language.ZH: (
        "转人工", "人工", "人工客服", "人工服务", "找人工", "客服",
        "再说一遍", "再说一次", "重复一遍", "没听清", "什么",
        "投诉", "我要投诉", "被盗", "账户被盗", "被盗刷",
        "太差了", "太差", "我要销户", "销户", "注销账户", "生气", "太过分了", "太离谱了",
        # opt_out
        "别再给我打电话了", "别再给我打电话", "不要再给我打电话了", "不要再打电话给我了",
        "别给我打电话了", "以后别给我打电话了", "别再打了", "不要再打了", "以后不要再打了",
        "别打了",
        "请不要再联系我了", "别再联系我了", "不要再联系我", "我不想再接到你们的电话",
        # switch_to_en / switch_to_zh
        "说英文", "英文", "说英语", "英语", "讲英语", "讲英文", "请说英文", "请说英语",
        "能说英语吗", "英文可以吗", "用英文", "换成英语", "english", "english please",
        "说中文", "中文", "讲中文", "请说中文", "说普通话", "讲普通话", "普通话",
    ),
    Language.EN: (
        "agent", "an agent", "representative", "a representative", "person", "a person",
        "human", "operator", "speak to an agent", "talk to a person", "customer service",
        "repeat", "repeat that", "say again", "say that again", "pardon", "sorry", "what",
        "complaint", "i want to complain", "stolen", "account stolen", "fraud",
        "this is ridiculous", "ridiculous", "terrible", "this is terrible",
        "close my account", "i want to close my account", "cancel my account",
        # opt_out
        "stop calling me", "please stop calling me", "stop calling", "stop calling this number",
        "don't call me again", "don't call again", "please don't call again",
        "please don't call me again", "do not call me again", "do not call", "never call me again",
        "no more calls", "no more calls please", "take me off your list",
        "remove my number", "quit calling me",
        # switch_to_zh / switch_to_en
        "chinese", "chinese please", "speak chinese", "speak chinese please",
        "can you speak chinese", "in chinese please", "mandarin", "mandarin please",
        "speak mandarin",
        "english", "english please", "speak english", "speak english please",
        "in english please",
    ),
}

_PHRASES: dict[Language, dict[Expectation, tuple[str, ...]]] = {
    Language.ZH: {
        Expectation.YES_NO: (
            "是", "是的", "对", "对的", "没错", "确认", "好的", "好", "可以", "行", "嗯",
            "没问题", "没有问题", "有",
            "不是", "不对", "不", "不用", "不用了", "不要", "没有", "不可以", "不行",
            "不方便", "打错了", "晚点再打",
            # "are these correct?" may be answered by naming the wrong item
            "手机号不对", "手机号错了", "电话不对", "地址不对", "地址错了", "名字不对",
            "姓名不对", "银行卡不对", "卡号不对", "手机号", "地址", "银行卡", "名字",
            "换银行卡",
            # "is this Mr Wang?" answered by someone else (not_available, not wrong party)
            "他不在", "她不在", "他不在家", "她不在家", "不在家", "不在", "他现在不在",
            "她现在不在", "他出去了", "她出去了", "他在上班", "她在上班", "他不在这儿",
            "她还没回来", "他还没回来",
        ),
        Expectation.DIGITS: (
            "零", "〇", "一", "幺", "二", "两", "三", "四", "五", "六", "七", "八", "九",
        ),
        Expectation.RATING: (
            "一", "二", "两", "三", "四", "五",
            "一分", "二分", "两分", "三分", "四分", "五分",
            "一星", "二星", "两星", "三星", "四星", "五星",
            "非常满意", "很满意", "满意", "还可以", "一般", "不满意", "很不满意", "非常不满意",
            "还行", "一般般", "不太满意", "不是很满意", "挺好", "不错",
            # declining to rate
            "不用了", "不想评", "不评了", "不打分", "算了", "不用",
        ),
    },
    Language.EN: {
        Expectation.YES_NO: (
            "yes", "yeah", "yep", "yes please", "sure", "okay", "ok", "correct",
            "that's correct", "right", "that's right", "of course",
            "no", "nope", "no thanks", "not really", "wrong", "not now", "busy", "later",
            "wrong number",
            # "are these correct?" may be answered by naming the wrong item
            "the phone number is wrong", "the address is wrong", "the name is wrong",
            "wrong phone number", "wrong address", "phone wrong", "phone number wrong",
            "address wrong", "bank card wrong", "phone", "address", "bank card", "name",
            "change bank card",
            # "am I speaking with Mr Wang?" answered by someone else (not_available)
            "he's not here", "she's not here", "he's not home", "she's not home",
            "he's not home right now", "she's not home right now", "he's not in", "she's not in",
            "he's out", "she's out", "he's at work", "she's at work", "he's not available",
            "she's not available", "not home", "not here",
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
            "it was okay", "not really satisfied", "not great", "not bad", "average", "fine",
            # declining to rate
            "i'd rather not", "no thanks", "no", "skip", "not now", "nothing",
        ),
    },
}


def phrases(lang: Language, expect: Expectation) -> tuple[str, ...]:
    """Unfiltered phrases for a closed expectation (empty for ``OPEN``)."""
    table = _PHRASES[lang]
    if expect not in table:
        return ()
    return table[expect] + _CONTROL[lang]


# Answers a closed question cannot do without: one phrase of every group must fit the model.
_REQUIRED: dict[Language, dict[Expectation, tuple[tuple[str, ...], ...]]] = {
    Language.ZH: {
        Expectation.YES_NO: (("是", "是的", "对", "对的", "没错"), ("不是", "不对", "不")),
        Expectation.DIGITS: (("零", "〇"), ("一", "幺"), ("二", "两"), ("三",), ("四",),
                             ("五",), ("六",), ("七",), ("八",), ("九",)),
        Expectation.RATING: (("一", "一分"), ("二", "两", "二分", "两分"), ("三", "三分"),
                             ("四", "四分"), ("五", "五分")),
    },
    Language.EN: {
        Expectation.YES_NO: (("yes", "yeah", "correct"), ("no", "nope", "wrong")),
        Expectation.DIGITS: (("zero", "oh"), ("one",), ("two",), ("three",), ("four",),
                             ("five",), ("six",), ("seven",), ("eight",), ("nine",)),
        Expectation.RATING: (("one",), ("two",), ("three",), ("four",), ("five",)),
    },
}


def _is_cjk(token: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or ch == "〇" for ch in token)


def _segment(token: str, lexicon: Lexicon) -> list[str] | None:
    """Split ``token`` into the fewest model words, or None if impossible."""
    best: list[list[str] | None] = [[]] + [None] * len(token)
    for end in range(1, len(token) + 1):
        for start in range(end):
            head = best[start]
            if head is None:
                continue
            piece = token[start:end]
            if lexicon.knows(piece):
                candidate = [*head, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(token)]


def fit_phrase(phrase: str, lexicon: Lexicon) -> str | None:
    """Rewrite ``phrase`` in the model's words, or None if some token cannot be spelled."""
    out: list[str] = []
    for token in phrase.lower().split():
        if lexicon.knows(token):
            out.append(token)
            continue
        pieces = _segment(token, lexicon) if _is_cjk(token) else None
        if pieces is None:
            return None
        out.extend(pieces)
    return " ".join(out) if out else None


@dataclass(frozen=True, slots=True)
class GrammarFit:
    """A fitted grammar (``None`` = open vocabulary) and what could not be fitted, and why."""

    grammar: list[str] | None
    unfitted: tuple[str, ...] = ()
    open_reason: str = ""


def fit_grammar(lang: Language, expect: Expectation, lexicon: Lexicon) -> GrammarFit:
    """The grammar for this question on this model, or open vocabulary with the reason."""
    candidates = phrases(lang, expect)
    if not candidates:
        return GrammarFit(None, (), "open question")
    fitted: dict[str, None] = {}
    spelled: dict[str, str] = {}
    unfitted: list[str] = []
    for phrase in dict.fromkeys(candidates):
        words = fit_phrase(phrase, lexicon)
        if words is None:
            unfitted.append(phrase)
            continue
        spelled[phrase] = words
        fitted.setdefault(words, None)
    fitted.pop(UNK, None)
    missing = [group[0] for group in _REQUIRED[lang].get(expect, ())
               if not any(p in spelled for p in group)]
    if missing:
        reason = "the model cannot spell " + ", ".join(repr(m) for m in missing)
        return GrammarFit(None, tuple(unfitted), reason)
    if not lexicon.knows(UNK):
        return GrammarFit(None, tuple(unfitted),
                          f"the model has no {UNK} for speech outside the grammar")
    return GrammarFit([*fitted, UNK], tuple(unfitted))


def fit_phrases(candidates: Iterable[str], lexicon: Lexicon) -> list[str]:
    """Fitted phrases, de-duplicated in order, plus ``[unk]``."""
    seen: dict[str, None] = {}
    for phrase in candidates:
        fitted = fit_phrase(phrase, lexicon)
        if fitted is not None:
            seen.setdefault(fitted, None)
    seen.pop(UNK, None)
    return [*seen, UNK]
