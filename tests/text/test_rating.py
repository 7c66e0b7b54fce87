"""Ratings as callers give them: numbers, keypad, satisfaction words, negation and degree."""

from __future__ import annotations

import pytest

from ivr.text import parse_rating

CASES = [
    # numbers, zh
    ("五分", 5), ("五 分", 5), ("5分", 5), ("两分", 2), ("一分", 1), ("一 分", 1), ("三星", 3),
    ("五星", 5), ("给你们打四分", 4), ("打个三分吧", 3), ("就五吧", 5), ("五", 5), ("四", 4),
    ("我给四", 4), ("满分", 5), ("零分", 1), ("非常满意 五分", 5), ("不满意 二分", 2),
    ("还行 三分吧", 3),
    # numbers, en
    ("five", 5), ("four", 4), ("4", 4), ("a four", 4), ("I'd give it a four", 4),
    ("four out of five", 4), ("five stars", 5), ("two stars", 2), ("three points", 3),
    ("um five", 5), ("uh four I guess", 4), ("it was okay three", 3), ("okay five", 5),
    ("5/5", 5), ("full marks", 5),
    # satisfaction, zh (degree and negation)
    ("非常满意", 5), ("很满意", 5), ("十分满意", 5), ("特别满意", 5), ("满意", 4),
    ("挺满意的", 4), ("比较满意", 4), ("还不错", 4), ("挺好的", 4),
    ("一般", 3), ("一般吧", 3), ("一 般 吧", 3), ("一般般", 3), ("还行", 3), ("还 行 吧", 3),
    ("还可以", 3), ("马马虎虎", 3), ("凑合吧", 3), ("不好不坏", 3),
    ("不满意", 2), ("不 满 意", 2), ("不 满意", 2), ("不太满意", 2), ("不是很满意", 2),
    ("不怎么满意", 2), ("不太好", 2), ("有点失望", 2),
    ("非常不满意", 1), ("很不满意", 1), ("太差了", 1), ("服务很差", 1), ("一点都不满意", 1),
    # satisfaction, en
    ("very satisfied", 5), ("excellent", 5), ("great", 5), ("it was great", 5),
    ("satisfied", 4), ("pretty good", 4), ("good", 4), ("I'm happy", 4),
    ("it was okay", 3), ("okay", 3), ("so so", 3), ("average", 3), ("not bad", 3),
    ("it was fine", 3), ("not too bad", 3),
    ("not really satisfied", 2), ("not great", 2), ("not satisfied", 2), ("unsatisfied", 2),
    ("dissatisfied", 2), ("not very good", 2), ("I was not happy", 2), ("it wasn't good", 2),
    ("bad", 2), ("could be better", 2), ("I'm not really that satisfied", 2),
    ("very unsatisfied", 1), ("terrible", 1), ("awful", 1), ("not satisfied at all", 1),
    ("the worst", 1),
    # nothing to rate
    ("", None), ("五分钟以后再说", None), ("hello", None), ("我不知道", None), ("一下", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_rating(text: str, expected: int | None) -> None:
    assert parse_rating(text) == expected


def test_yi_ban_is_never_the_digit_one() -> None:
    for text in ("一般", "一般吧", "一 般", "一般般", "感觉一般"):
        assert parse_rating(text) == 3, text


@pytest.mark.parametrize(("entity", "expected"), [(4, 4), ("5", 5), ("2.0", 2), (9, None),
                                                  ("x", None)])
def test_keypad_entity_wins(entity: object, expected: int | None) -> None:
    assert parse_rating("", entity) == expected
    if expected is not None:
        assert parse_rating("非常满意", entity) == expected
