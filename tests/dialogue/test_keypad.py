"""Keypad digits → dialogue messages, by what the dialogue expects."""

from __future__ import annotations

import json

import pytest

from ivr.core.types import Expectation
from ivr.dialogue.keypad import AGENT, REPEAT, key_message

NON_DIGIT_STATES = [None, Expectation.YES_NO, Expectation.OPEN, Expectation.RATING]


@pytest.mark.parametrize("expect", NON_DIGIT_STATES)
def test_zero_is_agent_and_hash_is_repeat(expect: Expectation | None) -> None:
    assert key_message("0", expect) == AGENT == "/request_agent"
    assert key_message("#", expect) == REPEAT == "/repeat"


@pytest.mark.parametrize("expect", [None, Expectation.YES_NO, Expectation.OPEN])
def test_one_is_yes_two_is_no(expect: Expectation | None) -> None:
    assert key_message("1", expect) == "/affirm"
    assert key_message("2", expect) == "/deny"


@pytest.mark.parametrize("expect", [None, Expectation.YES_NO, Expectation.OPEN])
@pytest.mark.parametrize("digit", ["3", "4", "5", "6", "7", "8", "9", "*", "A", "D"])
def test_other_keys_mean_nothing_outside_rating_and_digits(
    expect: Expectation | None, digit: str
) -> None:
    assert key_message(digit, expect) is None


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_rating_one_to_five(rating: int) -> None:
    message = key_message(str(rating), Expectation.RATING)
    assert message is not None and message.startswith("/rate")
    assert json.loads(message.removeprefix("/rate")) == {"rating": rating}


@pytest.mark.parametrize("digit", ["6", "7", "8", "9", "*", "B"])
def test_rating_ignores_keys_outside_one_to_five(digit: str) -> None:
    assert key_message(digit, Expectation.RATING) is None


@pytest.mark.parametrize("digit", list("0123456789*#"))
def test_digit_answers_are_not_mapped_here(digit: str) -> None:
    # the ID question's digits are collected by the call controller (ivr.call.answers)
    assert key_message(digit, Expectation.DIGITS) is None
