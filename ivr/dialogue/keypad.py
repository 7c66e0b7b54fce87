"""Keypad digits → dialogue messages, by what the dialogue currently expects.

1 = yes, 2 = no, 1–5 = rating, 0 = agent, # = repeat; digit answers end with # or at length,
and ``*`` in a digit answer is the letter X (the check character that ends some ID numbers)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ivr.core.types import Expectation

AGENT = "/request_agent"
REPEAT = "/repeat"


@dataclass
class KeypadMapper:
    """Collects digits for one question; ``press`` returns a message once the answer is whole."""

    digits_length: int = 4
    _buffer: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self._buffer.clear()

    def press(self, digit: str, expect: Expectation | None) -> str | None:
        if expect is Expectation.DIGITS:
            return self._digits(digit)
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

    def _digits(self, digit: str) -> str | None:
        if digit == "#" and not self._buffer:
            return REPEAT
        if digit == "*":
            self._buffer.append("X")
        elif digit.isdigit():
            self._buffer.append(digit)
        if digit == "#" or len(self._buffer) >= self.digits_length:
            value = "".join(self._buffer)
            self._buffer.clear()
            return "/inform_digits" + json.dumps({"digits": value})
        return None
