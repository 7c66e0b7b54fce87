"""The pure answer helpers: digits in recognizer text, completeness per answer kind, and the
digits collector."""

from __future__ import annotations

import pytest

from ivr.call.answers import DigitsCollector, DigitsStatus, complete, spoken_digits, words
from ivr.call.policy import AnswerKind, AnswerTiming, CallPolicy


@pytest.mark.parametrize(("text", "digits"), [
    ("一 二 三 四", "1234"), ("一二三四", "1234"), ("幺 两 三 叉", "123X"),
    ("one two three four", "1234"), ("double four one two", "4412"), ("1 2 3 4", "1234"),
    ("五 六 [unk] 七 八", "5678"), ("four three two x", "432X"), ("零", "0"),
])
def test_spoken_digits(text: str, digits: str) -> None:
    assert spoken_digits(text) == digits


@pytest.mark.parametrize("text", ["转人工", "一 分", "bank card", "", "[unk]", "double",
                                  "太差了", "one agent"])
def test_not_digits(text: str) -> None:
    assert spoken_digits(text) is None


@pytest.mark.parametrize(("kind", "text", "whole"), [
    (AnswerKind.YES_NO, "是", True), (AnswerKind.YES_NO, "[unk]", False),
    (AnswerKind.RATING, "五", True), (AnswerKind.DIGITS, "一 二 三", False),
    (AnswerKind.DIGITS, "一 二 三 四", True), (AnswerKind.OPEN, "没有 了", True),
    (AnswerKind.OPEN, "nothing else", True), (AnswerKind.OPEN, "交易记录 在哪里", False),
    (AnswerKind.OPEN_LONG, "希望 界面", False), (AnswerKind.OPEN_LONG, "没有", True),
])
def test_complete(kind: AnswerKind, text: str, whole: bool) -> None:
    assert complete(kind, text) is whole


def test_words_drop_unknown_markers() -> None:
    assert words("[unk] 是 [unk]") == "是"


def test_collector_mixes_speech_and_keys() -> None:
    col = DigitsCollector()
    assert col.spoken("一 二", 0.8) is DigitsStatus.MORE
    assert col.key("3") is DigitsStatus.MORE
    assert col.key("*") is DigitsStatus.WHOLE
    assert col.digits == "123X" and col.transcript() == "一 二 [3X]"
    assert col.confidence == 0.8 and not col.keyed_only


def test_collector_hash_and_agent() -> None:
    col = DigitsCollector()
    assert col.key("#") is DigitsStatus.REPEAT
    assert col.key("0") is DigitsStatus.MORE and col.agent_request
    assert col.key("#") is DigitsStatus.WHOLE
    col.reset()
    assert col.spoken("零", None) is DigitsStatus.MORE and not col.agent_request
    assert col.spoken("转人工", None) is DigitsStatus.NOT_DIGITS


def test_answer_timing_is_validated() -> None:
    with pytest.raises(ValueError):
        AnswerTiming(300, 400)
    assert CallPolicy().timing(AnswerKind.OPEN_LONG).end_silence_ms > \
        CallPolicy().timing(AnswerKind.YES_NO).end_silence_ms
