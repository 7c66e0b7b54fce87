"""CSV cells neutralised against spreadsheet formulas."""

from __future__ import annotations

import csv
import io

import pytest

from ivr.core.csvsafe import csv_cell, csv_row


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1+cmd", "'+1+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("＝1+1", "'＝1+1"),
    ("c-001", "c-001"), ("张伟", "张伟"), ("", ""), (None, ""), (4, "4"), (-3, "-3"),
    ("-3", "-3"), ("+1.5", "+1.5"), ("0.7368", "0.7368"),
])
def test_csv_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_a_written_row_reads_back_as_text() -> None:
    out = io.StringIO()
    csv.writer(out).writerow(csv_row(["=1+2", "ok", 5]))
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1+2", "ok", "5"]
