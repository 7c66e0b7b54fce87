"""The one text normaliser between the recognizer and everything that reads text.

It does exactly four things, and nothing else (no lower-casing, no punctuation removal, no
synonyms):

1. full/half-width forms (Unicode NFKC: "１２３４" → "1234", "，" → ",", ideographic space);
2. joins CJK words or characters a recognizer separated with spaces ("帮 我 转 人 工" →
   "帮我转人工"), keeping the space between latin words and between a CJK run and a latin
   word ("我的 app 打不开");
3. spoken digit strings become ASCII digits: Chinese numerals in a run of two or more
   ("一二三四", "幺三八", "两零"; "一般", "一下", "两三天" are left alone), English digit words
   in a run of two or more ("one two three four", "double four", "triple five", "oh" inside
   a run), spaced digits ("1 2 3 4"); a single numeral stays a word ("五分", "four");
4. an X ending an ID number ("3 5 7 叉", "one two three x", "123 ex") becomes "…X".

Idempotent: ``normalize(normalize(t)) == normalize(t)``. Standard library only: the Rasa
processes import it too.
"""

from __future__ import annotations

import re
import unicodedata

ZH_DIGITS = {"零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3",
             "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
EN_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3",
             "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_REPEAT = {"double": 2, "triple": 3}
# Words that are digits only next to other digits ("oh no" stays).
_WEAK = {"oh", "o"}
_X_WORDS = {"x", "ex", "叉"}
_MIN_DIGITS_BEFORE_X = 3

# Approximate counts, not digit strings: "两三天", "一两次", "三五个".
_APPROX = {"一两", "两三", "三四", "四五", "五六", "六七", "七八", "八九", "三五", "一二", "一一"}

_ZH_RUN = re.compile("[" + "".join(ZH_DIGITS) + "]{2,}")
# "尾号357叉", "123x" written as one token
_DIGITS_THEN_X = re.compile(
    r"(?<![0-9A-Za-z.])(\d{" + str(_MIN_DIGITS_BEFORE_X) + r",})(?:x|X|叉)(?![0-9A-Za-z])")


def is_cjk(ch: str) -> bool:
    """A Han character, 〇, or CJK punctuation (joined without spaces)."""
    code = ord(ch)
    return (0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF
            or 0x3000 <= code <= 0x303F or 0x20000 <= code <= 0x2FA1F)


def _join_cjk(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        if out and is_cjk(out[-1][-1]) and is_cjk(token[0]):
            out[-1] += token
        else:
            out.append(token)
    return out


def _zh_run(match: re.Match[str]) -> str:
    run = match.group(0)
    text = match.string
    after = text[match.end():match.end() + 1]
    if len(run) == 2 and run in _APPROX and after and is_cjk(after):
        return run
    return "".join(ZH_DIGITS[ch] for ch in run)


def _digit_of(token: str) -> str | None:
    """The digit a single token stands for ("four", "4", "oh"), else None."""
    low = token.lower()
    if low in EN_DIGITS:
        return EN_DIGITS[low]
    if len(low) == 1 and low.isascii() and low.isdigit():
        return low
    return None


_TRAIL = ",.;:!?"


def _run_at(tokens: list[str], i: int) -> tuple[str, int, int, str]:
    """(digits, strong digits, end index, trailing punctuation) of the digit run starting at
    ``tokens[i]``; commas between spoken digits ("one, two, three") belong to the run."""
    digits, strong, j, tail = "", 0, i, ""
    while j < len(tokens):
        core = tokens[j].rstrip(_TRAIL)
        low = core.lower()
        if low in _REPEAT and core == tokens[j] and j + 1 < len(tokens):
            nxt = tokens[j + 1].rstrip(_TRAIL)
            single = _digit_of(nxt)
            if single is not None:
                digits += single * _REPEAT[low]
                strong += _REPEAT[low]
                tail = tokens[j + 1][len(nxt):]
                j += 2
                continue
        single = _digit_of(core) if core else None
        if single is None:
            break
        digits += single
        strong += 0 if low in _WEAK else 1
        tail = tokens[j][len(core):]
        j += 1
    return digits, strong, j, tail


def _digit_runs(tokens: list[str]) -> list[str]:
    """Runs of two or more spoken or spaced digits become one token ("one two" → "12")."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        digits, strong, j, tail = _run_at(tokens, i)
        if len(digits) >= 2 and strong >= 2:
            out.append(digits + tail)
            i = j
        else:
            out.append(tokens[i])
            i += 1
    return out


def _x_suffix(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        core = token.rstrip(_TRAIL)
        if (core.lower() in _X_WORDS and out and out[-1].isascii() and out[-1].isdigit()
                and len(out[-1]) >= _MIN_DIGITS_BEFORE_X):
            out[-1] += "X" + token[len(core):]
        else:
            out.append(token)
    return out


def normalize(text: str) -> str:
    """Recognizer (or typed) text in the one form every parser and the NLU read."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    tokens = _join_cjk(text.split())
    tokens = [_ZH_RUN.sub(_zh_run, t) for t in tokens]
    tokens = _x_suffix(_digit_runs(tokens))
    return _DIGITS_THEN_X.sub(lambda m: m.group(1) + "X", " ".join(tokens))
