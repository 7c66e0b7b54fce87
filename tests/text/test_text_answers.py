"""Yes/no, the item named as wrong, "no problem", and digits, on natural answers."""

from __future__ import annotations

import pytest

from ivr.text import digits_in, means_no_problem, parse_item, parse_yes_no

YES_NO = [
    ("是", True), ("是的", True), ("对", True), ("对 没错", True), ("嗯 是我", True),
    ("没错", True), ("可以", True), ("好的", True), ("嗯", True), ("确认", True),
    ("yes", True), ("yeah that's me", True), ("sure", True), ("correct", True),
    ("that's right", True), ("uh huh", True), ("okay", True), ("no problem", True),
    ("不是", False), ("不对", False), ("嗯 不是", False), ("不用了", False), ("没有", False),
    ("打错了", False), ("不是 不是", False), ("no", False), ("nope", False),
    ("that's not right", False), ("it isn't right", False), ("no thanks", False),
    ("not really", False), ("wrong", False),
    ("是 不是", None), ("yes no", None), ("", None),
    ("hello", None),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


ITEMS = [
    ("手机号不对", "phone"), ("手 机 号 不 对", "phone"), ("手机号码错了", "phone"),
    ("电话号码不是这个", "phone"), ("我换手机号了", "phone"), ("号码", "phone"),
    ("地址", "city"), ("地址不对", "city"), ("我搬家了", "city"), ("城市不对", "city"),
    ("名字写错了", "name"), ("姓名不对", "name"), ("卡号不对", "card"), ("银行卡", "card"),
    ("手机号没问题 地址不对", "city"), ("手机号没问题,地址不对", "city"),
    ("the phone number is wrong", "phone"), ("wrong phone number", "phone"),
    ("my number changed", "phone"), ("my address is wrong", "city"), ("I moved", "city"),
    ("the name is misspelled", "name"), ("my card number changed", "card"),
    ("my address is fine but the name is wrong", "name"),
    ("phone is right address wrong", "city"),
    ("都对", None), ("没有问题", None), ("", None), ("hello", None),
]


@pytest.mark.parametrize(("text", "expected"), ITEMS)
def test_parse_item(text: str, expected: str | None) -> None:
    assert parse_item(text) == expected


NO_PROBLEM = [
    ("没有问题", True), ("没 有 问 题", True), ("没问题", True), ("嗯 没什么问题", True),
    ("没毛病", True), ("no problem", True), ("no problems at all", True), ("all good", True),
    ("没问题 就是手机号不对", False), ("有问题", False), ("手机号有问题", False),
    ("没错", False), ("不对", False), ("no problem but the address is wrong", False),
    ("yes", False), ("", False),
]


@pytest.mark.parametrize(("text", "expected"), NO_PROBLEM)
def test_means_no_problem(text: str, expected: bool) -> None:
    assert means_no_problem(text) is expected


DIGITS = [
    ("一 二 三 四", "1234"), ("一二三四", "1234"), ("幺 零 零 八", "1008"),
    ("两 两 三 三", "2233"), ("后四位是一二三四", "1234"), ("尾号 九 零 九 零", "9090"),
    ("是 三 三 二 一", "3321"), ("1234", "1234"), ("1 2 3 4", "1234"),
    ("one two three four", "1234"), ("it's five six seven eight", "5678"),
    ("oh nine eight seven", "0987"), ("double four three two", "4432"),
    ("my digits are four four three three", "4433"),
    ("三 五 七 叉", "357X"), ("one two three x", "123X"), ("123x", "123X"),
    ("五", "5"), ("four", "4"), ("一般", ""), ("等一下", ""), ("", ""), ("hello", ""),
]


@pytest.mark.parametrize(("text", "expected"), DIGITS)
def test_digits_in(text: str, expected: str) -> None:
    assert digits_in(text) == expected
