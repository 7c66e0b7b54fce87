"""A keypad digit → a dialogue message, by what the dialogue currently expects.

1 = yes, 2 = no, 1–5 = rating, 0 = agent, # = repeat. Digit answers (the ID question: digits
across pauses, ``*`` = X, ``0`` alone = agent) are collected by the call controller
(``ivr.call.answers``), never mapped here."""

from __future__ import annotations

import json

from ivr.core.types import Expectation

AGENT = "/request_agent"
REPEAT = "/repeat"


def key_message(digit: str, expect: Expectation | None) -> str | None:
    """The message one key press means at a question expecting ``expect``; None: nothing."""
    if expect is Expectation.DIGITS:
        return None
    if digit == "0":
        return AGENT
    if digit == "#":
        return REPEAT
    if expect is Expectation.RATING and digit in "12345":
        return "/rate" + json.dumps({"rating": int(digit)})
    if digit == "1":
        return "/affirm"
    if digit == "2":
        return "/deny"
    return None
