"""Masking of personal data (phone, card and ID numbers) in values, free text and logs.

Pure functions, no I/O. Every function is idempotent: masking masked text changes nothing.
``mask_text`` finds digit sequences of 7 or more digits -- Arabic, full-width, Chinese digit
characters and English digit words, optionally separated by spaces, dashes, dots, slashes,
commas or underscores -- and replaces each digit except the last 4 with ``*``. Dates
(``2024-01-15``, ``2024/01/15``), IPv4 addresses, amounts (``1,234,567.89``, ``1234.5``), UUIDs
and long hexadecimal identifiers (provider SIDs) are left alone so logs stay useful.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

MIN_RUN = 7
VISIBLE = 4

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_ZH_DIGITS = "零〇一幺二两三四五六七八九"
_EN_DIGITS = "zero|oh|one|two|three|four|five|six|seven|eight|nine"
_WORD = rf"(?<![A-Za-z])(?:{_EN_DIGITS})(?![A-Za-z])"
_UNIT = re.compile(
    rf"(?P<mult>(?<![A-Za-z])(?:double|triple))[ \t]+(?P<mdigit>{_WORD}|[0-9])(?![0-9])"
    rf"|{_WORD}"
    rf"|[0-9０-９{_ZH_DIGITS}]"
    r"|(?<=[0-9])[Xx](?![A-Za-z0-9])",  # check character of a Chinese resident ID
    re.IGNORECASE,
)
# Between the digits of one number: spaces, dashes, brackets, dots, slashes, commas, underscores.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―－()（）./,_，、．／＿]*")
_HEX = "[0-9a-fA-F]"
_PROTECTED = re.compile(
    # dates, e.g. 2024-01-15, 2024/01/15, 2024.01.15, 15/01/2024 (not personal, fill logs)
    r"(?<![0-9])(?:19|20)[0-9]{2}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])"
    r"|(?<![0-9/])(?:0?[1-9]|[12][0-9]|3[01])/(?:0?[1-9]|1[0-2])/(?:19|20)[0-9]{2}(?![0-9/])"
    # IPv4 addresses
    r"|(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])"
    # amounts with thousands separators (1,234,567.89) and plain decimals (1234.5678)
    r"|(?<![0-9.,])[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![0-9,]|\.[0-9])"
    r"|(?<![0-9.,/_])[0-9]+\.[0-9]+(?![0-9]|[.,/_][0-9])"
    # UUIDs
    rf"|(?<![0-9A-Za-z]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![0-9A-Za-z])"
    # hexadecimal identifiers (16+ hex chars with letters and digits), e.g. CA1f2e...
    rf"|(?<![0-9A-Za-z])[A-Za-z]{{0,4}}(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])"
    rf"{_HEX}{{16,}}(?![0-9A-Za-z])"
)

# ITU country calling codes of 1 and 2 digits; every other code has 3 digits.
_CC1 = frozenset({"1", "7"})
_CC2 = frozenset(
    {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46"}
    | {"47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62"}
    | {"63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"}
)
_PHONE_NOISE = re.compile(r"[\s\-‐‑–—－().,/_]")


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    digits: int


def _mask_run(text: str, run: list[_Unit], out: list[str], pos: int) -> int:
    """Append ``text[pos:]`` up to the end of ``run`` to ``out``, masking all but the tail."""
    visible, hide_rest = 0, False
    hidden: set[int] = set()
    for index in range(len(run) - 1, -1, -1):
        unit = run[index]
        if not hide_rest and visible + unit.digits <= VISIBLE:
            visible += unit.digits
        else:
            hide_rest = True
            hidden.add(index)
    for index, unit in enumerate(run):
        out.append(text[pos : unit.start])
        out.append("*" * unit.digits if index in hidden else text[unit.start : unit.end])
        pos = unit.end
    return pos


def _mask_segment(text: str) -> str:
    runs: list[list[_Unit]] = []
    for match in _UNIT.finditer(text):
        digits = 1
        if match.group("mult"):
            digits = 2 if match.group("mult").lower() == "double" else 3
        unit = _Unit(match.start(), match.end(), digits)
        if runs and _SEPARATORS.fullmatch(text, runs[-1][-1].end, unit.start):
            runs[-1].append(unit)
        else:
            runs.append([unit])
    out: list[str] = []
    pos = 0
    for run in runs:
        if sum(unit.digits for unit in run) >= MIN_RUN:
            pos = _mask_run(text, run, out, pos)
    out.append(text[pos:])
    return "".join(out)


def mask_text(text: str) -> str:
    """Mask every sequence of 7+ digits (any script, digit words included) to its last 4."""
    out: list[str] = []
    pos = 0
    for match in _PROTECTED.finditer(text):
        out.append(_mask_segment(text[pos : match.start()]))
        out.append(match.group())
        pos = match.end()
    out.append(_mask_segment(text[pos:]))
    return "".join(out)


def _split_country_code(digits: str) -> tuple[str, str]:
    for size, codes in ((1, _CC1), (2, _CC2)):
        if digits[:size] in codes:
            return digits[:size], digits[size:]
    return digits[:3], digits[3:]


def _mask_national(number: str) -> str:
    if len(number) >= 10:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    if len(number) > VISIBLE:
        return "*" * (len(number) - VISIBLE) + number[-4:]
    return "*" * len(number)


def mask_phone(number: str) -> str:
    """``13812345678`` -> ``138****5678``; ``+8613812345678`` -> ``+86138****5678``.

    Numbers of 10+ national digits keep the first 3 and last 4, shorter ones only the last 4.
    Anything that is not a plain phone number (SIP URI, client identity) goes through
    :func:`mask_text`.
    """
    compact = _PHONE_NOISE.sub("", number.translate(_FULLWIDTH))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?[0-9]+", compact):
        return mask_text(number)
    if compact.startswith("+"):
        code, national = _split_country_code(compact[1:])
        return f"+{code}{_mask_national(national)}"
    return _mask_national(compact)


def _last_four(value: str, keep: str) -> str:
    chars = [c for c in value.translate(_FULLWIDTH) if c in keep]
    return "****" + "".join(chars[-VISIBLE:]) if len(chars) >= VISIBLE else "****"


def mask_card(number: str) -> str:
    """``6222021234567890123`` -> ``****0123``."""
    return _last_four(number, "0123456789")


def mask_id(value: str) -> str:
    """An identity-document number reduced to its last 4 characters: ``****002X``."""
    return _last_four(value, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _mask_arg(arg: object) -> object:
    return mask_text(arg) if isinstance(arg, str) else arg


class PiiFilter(logging.Filter):
    """Masks the formatted message, exception text and stack of every record it sees.

    A filter on a logger only sees records logged to that very logger, so use
    :func:`install_pii_filter`, which also puts it on the handlers of the root logger.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad format args: mask the parts, the handler reports the error
            record.msg = _mask_arg(record.msg)
            if isinstance(record.args, Mapping):
                record.args = {key: _mask_arg(val) for key, val in record.args.items()}
            elif isinstance(record.args, tuple):
                record.args = tuple(_mask_arg(arg) for arg in record.args)
        else:
            record.msg = mask_text(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install_pii_filter(logger: logging.Logger | None = None) -> PiiFilter:
    """Install one :class:`PiiFilter` on ``logger`` (root by default) and all its handlers.

    Handlers added to the logger later need ``handler.addFilter(filter)`` themselves.
    """
    target = logger if logger is not None else logging.getLogger()
    existing = next((f for f in target.filters if isinstance(f, PiiFilter)), None)
    pii_filter = existing if existing is not None else PiiFilter()
    for filterer in (target, *target.handlers):
        if pii_filter not in filterer.filters:
            filterer.addFilter(pii_filter)
    return pii_filter
