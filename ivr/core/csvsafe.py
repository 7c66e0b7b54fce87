"""CSV cells that a spreadsheet will not run as formulas (pure).

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width
forms) is a formula to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``,
``=cmd|'/C calc'!A0``). Such a cell is written with a leading apostrophe, which spreadsheets
show as text. Plain numbers (``-3``, ``+1.5``) are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_row(values: Iterable[object]) -> list[str]:
    return [csv_cell(v) for v in values]
