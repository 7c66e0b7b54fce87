"""The action server's own unit tests (rasa_project/tests/test_actions_*.py) need rasa_sdk,
which lives only in the Rasa venv: run them there and fail if any fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


@pytest.mark.skipif(not PYTHON.exists(), reason="no Rasa venv (run make test)")
def test_action_server_unit_tests_pass() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    result = subprocess.run(
        [str(PYTHON), "-m", "pytest", "-q", "tests"],
        cwd=ROOT / "rasa_project", env=env, capture_output=True, text=True, timeout=600,
    )
    summary = result.stdout.strip().splitlines()[-1:] if result.stdout else []
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert summary and " passed" in summary[0] and "failed" not in summary[0], summary
