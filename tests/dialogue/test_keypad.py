"""Keypad digits → dialogue messages, by what the dialogue expects."""

from __future__ import annotations

import json

import pytest

from ivr.core.types import Expectation
from ivr.dialogue.keypad import AGENT, REPEAT, KeypadMapper

NON_DIGIT_STATES = [None, Expectation.YES_NO, Expectation.OPEN, Expectation.RATING]


def digits_message(value: str) -> str:
    return "/inform_digits" + json.dumps({"digits": value})


@pytest.mark.parametrize("expect", NON_DIGIT_STATES)
def test_zero_is_agent_and_hash_is_repeat(expect: Expectation | None) -> None:
    mapper = KeypadMapper()
    assert mapper.press("0", expect) == AGENT == "/request_agent"
    assert mapper.press("#", expect) == REPEAT == "/repeat"


@pytest.mark.parametrize("expect", [None, Expectation.YES_NO, Expectation.OPEN])
def test_one_is_yes_two_is_no(expect: Expectation | None) -> None:
    mapper = KeypadMapper()
    assert mapper.press("1", expect) == "/affirm"
    assert mapper.press("2", expect) == "/deny"


@pytest.mark.parametrize("expect", [None, Expectation.YES_NO, Expectation.OPEN])
@pytest.mark.parametrize("digit", ["3", "4", "5", "6", "7", "8", "9", "*", "A", "D"])
def test_other_keys_mean_nothing_outside_rating_and_digits(
    expect: Expectation | None, digit: str
) -> None:
    assert KeypadMapper().press(digit, expect) is None


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_rating_one_to_five(rating: int) -> None:
    message = KeypadMapper().press(str(rating), Expectation.RATING)
    assert message is not None and message.startswith("/rate")
    assert json.loads(message.removeprefix("/rate")) == {"rating": rating}


@pytest.mark.parametrize("digit", ["6", "7", "8", "9", "*", "B"])
def test_rating_ignores_keys_outside_one_to_five(digit: str) -> None:
    assert KeypadMapper().press(digit, Expectation.RATING) is None


def test_digits_complete_at_four() -> None:
    mapper = KeypadMapper()
    assert [mapper.press(d, Expectation.DIGITS) for d in "123"] == [None, None, None]
    assert mapper.press("4", Expectation.DIGITS) == digits_message("1234")
    # The buffer starts over for the next answer.
    assert [mapper.press(d, Expectation.DIGITS) for d in "5678"][-1] == digits_message("5678")


def test_digits_zero_is_a_digit_not_agent() -> None:
    mapper = KeypadMapper()
    assert [mapper.press(d, Expectation.DIGITS) for d in "0000"][-1] == digits_message("0000")


def test_digits_hash_ends_early() -> None:
    mapper = KeypadMapper()
    mapper.press("4", Expectation.DIGITS)
    mapper.press("2", Expectation.DIGITS)
    assert mapper.press("#", Expectation.DIGITS) == digits_message("42")
    # Nothing left: a lone # now asks for a repeat.
    assert mapper.press("#", Expectation.DIGITS) == REPEAT


def test_digits_star_is_the_letter_x() -> None:
    mapper = KeypadMapper()
    for d in "987":
        assert mapper.press(d, Expectation.DIGITS) is None
    assert mapper.press("*", Expectation.DIGITS) == digits_message("987X")
    assert mapper.press("#", Expectation.DIGITS) == REPEAT
    assert [mapper.press(d, Expectation.DIGITS) for d in "12*#"][-1] == digits_message("12X")


def test_digits_ignores_letters() -> None:
    mapper = KeypadMapper()
    assert [mapper.press(d, Expectation.DIGITS) for d in "1A2BC3D4"][-1] == digits_message(
        "1234"
    )


def test_custom_length() -> None:
    mapper = KeypadMapper(digits_length=6)
    results = [mapper.press(d, Expectation.DIGITS) for d in "123456"]
    assert results[:5] == [None] * 5
    assert results[5] == digits_message("123456")


def test_reset_forgets_partial_answer() -> None:
    mapper = KeypadMapper()
    mapper.press("1", Expectation.DIGITS)
    mapper.press("2", Expectation.DIGITS)
    mapper.reset()
    assert mapper.press("#", Expectation.DIGITS) == REPEAT
    assert [mapper.press(d, Expectation.DIGITS) for d in "3456"][-1] == digits_message("3456")


def test_mappers_do_not_share_buffers() -> None:
    a, b = KeypadMapper(), KeypadMapper()
    a.press("1", Expectation.DIGITS)
    assert b.press("#", Expectation.DIGITS) == REPEAT
    assert a.press("#", Expectation.DIGITS) == digits_message("1")
