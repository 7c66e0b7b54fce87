"""Grammar data fitted to a model's vocabulary (pure: a word set stands in for the model)."""

from __future__ import annotations

import pytest
import yaml

from ivr.asr.grammars import UNK, fit_grammar, fit_phrase, fit_phrases, phrases
from ivr.asr.lexicon import ModelLexicon, WordSet
from ivr.asr.vosk_engine import VoskEngine
from ivr.config import ROOT
from ivr.core.types import Expectation, Language

ZH_DIGITS = set("零一二三四五六七八九")
ZH_VOCAB = WordSet(
    {"是", "不是", "对", "不对", "分"} | ZH_DIGITS
    | {"满意", "非常满意", "转人工", "再说一遍", UNK}
)
EN_DIGITS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
EN_VOCAB = WordSet(
    {"yes", "no", "very", "satisfied", "agent", "repeat", UNK} | EN_DIGITS
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


def test_fit_phrase_follows_the_models_own_segmentation() -> None:
    """A model that knows 转 + 人工 (as a real small model might) gets 转人工 in two words."""
    lexicon = WordSet({"转", "人工", "不", "满意"})
    assert fit_phrase("转人工", lexicon) == "转 人工"
    assert fit_phrase("不满意", lexicon) == "不 满意"


def test_fit_phrases_dedupes_and_ends_with_unk() -> None:
    assert fit_phrases(["五分", "五 分", "[unk]", "是", "的"], ZH_VOCAB) == ["五 分", "是", UNK]


def test_fit_grammar_filters_by_vocabulary_and_reports_the_rest() -> None:
    fit = fit_grammar(Language.ZH, Expectation.RATING, ZH_VOCAB)
    assert fit.grammar is not None
    assert {"五 分", "非常满意", "满意", "转人工", "再说一遍"} <= set(fit.grammar)
    assert fit.grammar[-1] == UNK
    for phrase in fit.grammar:
        assert all(ZH_VOCAB.knows(word) for word in phrase.split())
    assert "很满意" in fit.unfitted and "五分" not in fit.unfitted
    en = fit_grammar(Language.EN, Expectation.YES_NO, EN_VOCAB)
    assert en.grammar == ["yes", "no", "agent", "repeat", UNK]


def test_open_question_means_open_vocabulary() -> None:
    fit = fit_grammar(Language.ZH, Expectation.OPEN, ZH_VOCAB)
    assert fit.grammar is None and fit.unfitted == ()


def test_missing_required_answer_falls_back_to_open_vocabulary() -> None:
    """A digits grammar without "seven" would force every 7 into another digit."""
    no_seven = WordSet((EN_DIGITS - {"seven"}) | {UNK})
    fit = fit_grammar(Language.EN, Expectation.DIGITS, no_seven)
    assert fit.grammar is None
    assert "seven" in fit.open_reason
    assert fit_grammar(Language.EN, Expectation.DIGITS, WordSet({"hello", UNK})).grammar is None


def test_yes_no_needs_both_a_yes_and_a_no() -> None:
    only_yes = WordSet({"是", "对", UNK})
    assert fit_grammar(Language.ZH, Expectation.YES_NO, only_yes).grammar is None
    both = WordSet({"是", "不", UNK})
    assert fit_grammar(Language.ZH, Expectation.YES_NO, both).grammar is not None


def test_model_without_unk_gets_open_vocabulary() -> None:
    fit = fit_grammar(Language.EN, Expectation.YES_NO, WordSet({"yes", "no"}))
    assert fit.grammar is None
    assert UNK in fit.open_reason


def test_model_lexicon_asks_once_per_word() -> None:
    asked: list[str] = []

    def find_word(word: str) -> int:
        asked.append(word)
        return 3 if word == "是" else -1

    lexicon = ModelLexicon(find_word)
    assert lexicon.knows("是") and lexicon.knows("是")
    assert not lexicon.knows("不是") and not lexicon.knows("不是")
    assert not lexicon.knows("a b") and not lexicon.knows("")
    assert asked == ["是", "不是"]


@pytest.mark.parametrize("lang", list(Language))
def test_phrases_have_no_duplicates(lang: Language) -> None:
    for expect in (Expectation.YES_NO, Expectation.DIGITS, Expectation.RATING):
        items = phrases(lang, expect)
        assert len(items) == len(set(items)), (lang, expect)


# What the spec lets a caller say at any closed question (CONVERSATION.md): complaint and
# anger, declining to rate, naming the wrong item at "are these correct?".
ANY_CLOSED = {Language.ZH: ("太差了", "我要销户", "投诉", "转人工"),
              Language.EN: ("this is ridiculous", "i want to close my account", "complaint",
                            "agent")}
SPEC_PHRASES = {
    (Language.ZH, Expectation.RATING): ("不想评", "不用了", "不太满意", "一般", "还行"),
    (Language.EN, Expectation.RATING): ("i'd rather not", "no thanks", "not really satisfied",
                                        "not great", "it was okay"),
    (Language.ZH, Expectation.YES_NO): ("手机号不对", "地址不对", "名字不对", "银行卡不对"),
    (Language.EN, Expectation.YES_NO): ("the phone number is wrong", "the address is wrong",
                                        "wrong phone number"),
}


@pytest.mark.parametrize("lang", list(Language))
@pytest.mark.parametrize("expect", [Expectation.YES_NO, Expectation.DIGITS, Expectation.RATING])
def test_closed_grammars_hear_complaints_and_anger(lang: Language, expect: Expectation) -> None:
    assert set(ANY_CLOSED[lang]) <= set(phrases(lang, expect))


@pytest.mark.parametrize(("lang", "expect"), list(SPEC_PHRASES))
def test_closed_grammars_hear_what_the_spec_allows(lang: Language, expect: Expectation) -> None:
    assert set(SPEC_PHRASES[(lang, expect)]) <= set(phrases(lang, expect))


def test_tiny_models_spell_the_spec_answers_they_can(engine: VoskEngine) -> None:
    """With the tiny test models (their ~50 words), the fitted grammars still carry a
    complaint, declining to rate and a wrong item; the rest is reported, not lost silently."""
    zh_yes_no = engine.grammar(Language.ZH, Expectation.YES_NO) or []
    assert {"手机号 不对", "地址 不对", "银行卡 不对", "投诉"} <= set(zh_yes_no)
    zh_rating = engine.grammar(Language.ZH, Expectation.RATING) or []
    assert {"不用了", "不满意", "投诉"} <= set(zh_rating)
    en_yes_no = engine.grammar(Language.EN, Expectation.YES_NO) or []
    assert {"phone wrong", "address wrong", "complaint"} <= set(en_yes_no)
    en_rating = engine.grammar(Language.EN, Expectation.RATING) or []
    assert {"no", "complaint", "unsatisfied"} <= set(en_rating)
    unfitted = fit_grammar(Language.ZH, Expectation.YES_NO, engine.model(Language.ZH).lexicon)
    assert "我要销户" in unfitted.unfitted


# What a caller may say at any question although it answers none (issue 11): never to be called
# again (opt_out), the other language (switch_to_en / switch_to_zh), and at the identity question
# that the customer is not there (not_available). Two lexicons per language: whole-phrase units
# (as the extended tiny test models have) and the small words an official model segments into.
ZH_UNITS = WordSet({"是", "不是", "对", "不对", "不", *ZH_DIGITS, "分", UNK,
                    "别再给我打电话了", "不要再打了", "他不在", "她不在", "不在家",
                    "说英文", "英文", "说中文"})
ZH_WORDS = WordSet({"是", "不是", "对", "不对", "不", *ZH_DIGITS, "分", UNK,
                    "别", "再", "给", "我", "打电话", "了", "不要", "打", "他", "她", "在", "家",
                    "说", "英文", "英语", "中文", "出去"})
EN_UNITS = WordSet({"yes", "no", "not", *EN_DIGITS, UNK, "stop", "calling", "me", "do", "don't",
                    "call", "again", "she's", "he's", "home", "here", "speak", "chinese",
                    "please", "english"})
ZH_LEX = {"units": ZH_UNITS, "words": ZH_WORDS}
CLOSED = (Expectation.YES_NO, Expectation.DIGITS, Expectation.RATING)
ANY_QUESTION = [  # (lang, lexicon, what the caller says, how the grammar spells it)
    (Language.ZH, "units", "别再给我打电话了", "别再给我打电话了"),
    (Language.ZH, "units", "不要再打了", "不要再打了"),
    (Language.ZH, "units", "说英文", "说英文"),
    (Language.ZH, "units", "英文", "英文"),
    (Language.ZH, "units", "说中文", "说中文"),
    (Language.ZH, "words", "别再给我打电话了", "别 再 给 我 打电话 了"),
    (Language.ZH, "words", "不要再打了", "不要 再 打 了"),
    (Language.ZH, "words", "说英语", "说 英语"),
    (Language.ZH, "words", "说中文", "说 中文"),
    (Language.EN, "units", "stop calling me", "stop calling me"),
    (Language.EN, "units", "don't call again", "don't call again"),
    (Language.EN, "units", "don't call me again", "don't call me again"),
    (Language.EN, "units", "speak chinese", "speak chinese"),
    (Language.EN, "units", "chinese please", "chinese please"),
    (Language.EN, "units", "english please", "english please"),
]
THIRD_PARTY = [
    (Language.ZH, "units", "他不在", "他不在"),
    (Language.ZH, "units", "她不在", "她不在"),
    (Language.ZH, "units", "不在家", "不在家"),
    (Language.ZH, "words", "他不在家", "他 不 在 家"),
    (Language.ZH, "words", "她出去了", "她 出去 了"),
    (Language.EN, "units", "she's not home", "she's not home"),
    (Language.EN, "units", "he's not here", "he's not here"),
    (Language.EN, "units", "he's not home", "he's not home"),
]


def _lexicon(lang: Language, kind: str) -> WordSet:
    return ZH_LEX[kind] if lang is Language.ZH else EN_UNITS


@pytest.mark.parametrize("expect", CLOSED)
@pytest.mark.parametrize(("lang", "kind", "said", "spelled"), ANY_QUESTION)
def test_opt_out_and_language_switch_are_heard_at_every_closed_question(
        lang: Language, kind: str, said: str, spelled: str, expect: Expectation) -> None:
    fit = fit_grammar(lang, expect, _lexicon(lang, kind))
    assert fit.grammar is not None, fit.open_reason
    assert spelled in fit.grammar, (said, fit.grammar)


@pytest.mark.parametrize(("lang", "kind", "said", "spelled"), THIRD_PARTY)
def test_a_third_party_is_heard_at_the_identity_question(
        lang: Language, kind: str, said: str, spelled: str) -> None:
    fit = fit_grammar(lang, Expectation.YES_NO, _lexicon(lang, kind))
    assert fit.grammar is not None, fit.open_reason
    assert spelled in fit.grammar, (said, fit.grammar)
    # only where someone answers for the customer: not a digit or a rating
    for other in (Expectation.DIGITS, Expectation.RATING):
        assert spelled not in (fit_grammar(lang, other, _lexicon(lang, kind)).grammar or [])


def test_each_call_asks_for_the_other_language_in_words_its_own_model_spells() -> None:
    """A Mandarin call is decoded by the Chinese model only: "English please" there needs the
    Chinese words (说英文); an English call needs "speak chinese", never 说中文."""
    zh = fit_grammar(Language.ZH, Expectation.YES_NO, ZH_UNITS)
    assert zh.grammar is not None and {"说英文", "说中文"} <= set(zh.grammar)
    assert "english please" in zh.unfitted  # no Latin words in this Chinese model
    en = fit_grammar(Language.EN, Expectation.YES_NO, EN_UNITS)
    assert en.grammar is not None and {"speak chinese", "english please"} <= set(en.grammar)
    assert not any(_is_han(p) for p in en.grammar)
    assert "说中文" not in phrases(Language.EN, Expectation.YES_NO)  # nothing could spell it


def _is_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_callback_time_and_feedback_questions_are_decoded_open() -> None:
    """Times ("明天 上午 十 点", "after 6 pm") are free text: no closed grammar may cut them."""
    domain = yaml.safe_load((ROOT / "rasa_project" / "domain.yml").read_text(encoding="utf-8"))
    asked = [name for name in domain["responses"]
             if name.startswith("utter_ask_") and "callback_time" in name]
    assert {"utter_ask_callback_time", "utter_ask_agent_callback_time"} <= set(asked)
    for name in asked:
        for variation in domain["responses"][name]:
            assert (variation.get("custom") or {}).get("expect") == "open", name
    assert fit_grammar(Language.ZH, Expectation.OPEN, ZH_UNITS).grammar is None
