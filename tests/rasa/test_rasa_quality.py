"""The real trained model: held-out NLU in three forms through /model/parse (≥ 95 % per
language, form and path), and `rasa test core` on the test stories (all must pass)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "rasa_project"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
MODEL = PROJECT / "models" / "ivr.tar.gz"
# ivr.text (the normaliser the NLU pipeline runs) comes from the repository root
ENV = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
           PYTHONPATH=str(ROOT))
MIN_ACCURACY = 0.95

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="no trained model (run make test)")


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("heldout") / "heldout.json"
    result = subprocess.run(
        [str(PYTHON), "tests/eval_heldout.py", "--model", str(MODEL), "--out", str(out)],
        cwd=PROJECT, env=ENV, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(result.stdout)  # the figures, per language, form and path (pytest -s shows them)
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("form", ["written", "words", "chars"])
@pytest.mark.parametrize("path", ["raw", "ivr"])
def test_heldout_intents_per_language_form_and_path(heldout: dict[str, Any], lang: str,
                                                    form: str, path: str) -> None:
    """`raw`: the form sent to /model/parse as is (the in-pipeline normaliser must cope);
    `ivr`: after the IVR's own normaliser, as the dialogue bridge sends it. Accuracy counts an
    intent that reaches the same action at the question where the phrase is said."""
    row = heldout[f"{lang}/{form}/{path}"]
    assert row["n"] >= 300
    assert row["same_action"] >= MIN_ACCURACY, (
        f"{lang}/{form}/{path}: {row['same_action']:.3f} < {MIN_ACCURACY}; "
        f"errors: {row['errors'][:15]}")
    assert row["macro_f1"] >= 0.93, row["macro_f1"]
    assert row["ratings_read"] >= MIN_ACCURACY, row["rating_errors"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_older_heldout_split_as_written(heldout: dict[str, Any], lang: str) -> None:
    row = heldout[f"legacy-{lang}/written/raw"]
    assert row["n"] >= 200
    assert row["macro_f1"] >= 0.95, f"{lang}: {row['macro_f1']:.3f}; {row['errors'][:10]}"


def test_core_test_stories_all_pass(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(RASA), "test", "core", "--stories", "tests/test_stories.yml", "--model",
         str(MODEL), "--out", str(tmp_path), "--fail-on-prediction-errors"],
        cwd=PROJECT, env=ENV, capture_output=True, text=True, timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, f"failing test stories:\n{detail}"
