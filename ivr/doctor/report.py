"""A doctor's findings: one line each, with what to fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Finding:
    area: str
    status: Status
    detail: str
    fix: str = ""


def ok(area: str, detail: str) -> Finding:
    return Finding(area, Status.OK, detail)


def warn(area: str, detail: str, fix: str = "") -> Finding:
    return Finding(area, Status.WARN, detail, fix)


def fail(area: str, detail: str, fix: str) -> Finding:
    return Finding(area, Status.FAIL, detail, fix)


def render(findings: Iterable[Finding]) -> str:
    lines = []
    counts = dict.fromkeys(Status, 0)
    for f in findings:
        counts[f.status] += 1
        lines.append(f"{f.status.value:>4}  {f.area}: {f.detail}")
        if f.fix:
            lines.append(f"      fix: {f.fix}")
    lines.append(f"{counts[Status.OK]} ok, {counts[Status.WARN]} warnings, "
                 f"{counts[Status.FAIL]} problems")
    return "\n".join(lines)
