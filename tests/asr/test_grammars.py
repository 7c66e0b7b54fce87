"""Grammar data fitted to a model vocabulary (pure, no model needed)."""

from __future__ import annotations

import pytest

from ivr.asr.grammars import UNK, fit_phrase, fit_phrases, grammar_for, phrases
from ivr.core.types import Expectation, Language

ZH_VOCAB = frozenset(
    {"是", "不是", "对", "不对", "一", "二", "三", "四", "五", "分"}
    | {"满意", "非常满意", "转人工", "再说一遍", "[unk]"}
)
EN_VOCAB = frozenset(
    ["yes", "no", "one", "two", "five", "very", "satisfied", "agent", "repeat", "[unk]"]
)


def test_every_closed_state_has_phrases_in_both_languages() -> None:
    for lang in Language:
        assert phrases(lang, Expectation.OPEN) == ()
        for expect in (Expectation.YES_NO, Expectation.DIGITS, Expectation.RATING):
            assert len(phrases(lang, expect)) >= 10


def test_required_phrases_present() -> None:
    zh_rating = phrases(Language.ZH, Expectation.RATING)
    assert {"五分", "非常满意", "满意", "不满意"} <= set(zh_rating)
    en_rating = phrases(Language.EN, Expectation.RATING)
    assert {"five", "very satisfied", "satisfied"} <= set(en_rating)
    assert {"转人工", "再说一遍", "是", "不是"} <= set(phrases(Language.ZH, Expectation.YES_NO))
    assert {"agent", "repeat", "yes", "no"} <= set(phrases(Language.EN, Expectation.YES_NO))
    assert set("零一二三四五六七八九") <= set(phrases(Language.ZH, Expectation.DIGITS))


def test_fit_phrase_splits_chinese_into_model_words() -> None:
    assert fit_phrase("五分", ZH_VOCAB) == "五 分"
    assert fit_phrase("非常满意", ZH_VOCAB) == "非常满意"  # whole word preferred
    assert fit_phrase("很满意", ZH_VOCAB) is None
    assert fit_phrase("Very Satisfied", EN_VOCAB) == "very satisfied"
    assert fit_phrase("five stars", EN_VOCAB) is None
    assert fit_phrase("yesno", EN_VOCAB) is None  # no splitting of latin tokens


def test_fit_phrases_dedupes_and_ends_with_unk() -> None:
    assert fit_phrases(["五分", "五 分", "[unk]", "是", "的"], ZH_VOCAB) == ["五 分", "是", UNK]


def test_grammar_for_filters_by_vocabulary() -> None:
    grammar = grammar_for(Language.ZH, Expectation.RATING, ZH_VOCAB)
    assert grammar is not None
    assert {"五 分", "非常满意", "满意", "转人工", "再说一遍"} <= set(grammar)
    assert grammar[-1] == UNK
    for phrase in grammar:
        assert all(word in ZH_VOCAB for word in phrase.split())
    en = grammar_for(Language.EN, Expectation.YES_NO, EN_VOCAB)
    assert en == ["yes", "no", "agent", "repeat", UNK]


def test_open_or_unfittable_means_open_vocabulary() -> None:
    assert grammar_for(Language.ZH, Expectation.OPEN, ZH_VOCAB) is None
    assert grammar_for(Language.EN, Expectation.DIGITS, frozenset({"hello"})) is None


def test_unknown_vocabulary_keeps_all_phrases() -> None:
    grammar = grammar_for(Language.EN, Expectation.DIGITS, frozenset())
    assert grammar is not None
    assert "zero" in grammar and grammar[-1] == UNK


@pytest.mark.parametrize("lang", list(Language))
def test_phrases_have_no_duplicates(lang: Language) -> None:
    for expect in (Expectation.YES_NO, Expectation.DIGITS, Expectation.RATING):
        items = phrases(lang, expect)
        assert len(items) == len(set(items)), (lang, expect)

