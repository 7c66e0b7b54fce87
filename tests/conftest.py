"""Suite-wide hooks. Under ``IVR_REQUIRE_ALL=1`` (set by ``make test``, hence CI) a skipped test
is a failure: a missing part (model, espeak-ng, Chromium, PostgreSQL) must not pass silently."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("IVR_REQUIRE_ALL") == "1" and not hasattr(
        report, "wasxfail"
    ):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under IVR_REQUIRE_ALL=1 (make test): {reason}"


pytest_plugins = ["tests.harness.plugin"]
