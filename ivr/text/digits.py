"""The digits a caller said or keyed, in order, with a final X of an ID number."""

from __future__ import annotations

import re

from ivr.text.normalize import EN_DIGITS, ZH_DIGITS, normalize

_TOKEN = re.compile(r"[0-9]+X?(?![0-9])|[a-zA-Z]+|[^\sa-zA-Z0-9]+")
_ASCII_RUN = re.compile(r"[0-9]+X?(?!位)")


def digits_in(text: str) -> str:
    """All digits in ``text`` ("一 二 三 四" → "1234", "one two three x" → "123X").

    Spoken digit strings are read by the normaliser; a single digit word counts when it is a
    word of its own ("four", a lone "五"), never inside another word ("一般", "一下");
    "后四位是1234" gives "1234"."""
    out: list[str] = []
    for token in normalize(text or "").split():
        if token.isascii() and token.isalpha():
            digit = EN_DIGITS.get(token.lower())
            if digit is not None and token.lower() not in ("o",):
                out.append(digit)
            continue
        if len(token) == 1 and token in ZH_DIGITS:
            out.append(ZH_DIGITS[token])
            continue
        out.extend(_ASCII_RUN.findall(token))
    joined = "".join(out)
    # only the very end may carry the X
    return joined.replace("X", "") + ("X" if joined.endswith("X") else "")
