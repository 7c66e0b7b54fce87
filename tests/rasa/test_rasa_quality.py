"""`rasa test nlu` on the held-out split and `rasa test core` on the test stories, with the real
trained model. Fails below 0.95 intent F1 per language or on any failing story."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "rasa_project"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = PROJECT / "models" / "ivr.tar.gz"
HAN = re.compile(r"[\u4e00-\u9fff]")
ENV = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="no trained model (run make test)")


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return sum(scores) / len(scores)


def test_nlu_held_out_split_f1_per_language(tmp_path: Path) -> None:
    subprocess.run(
        [str(RASA), "test", "nlu", "--nlu", "tests/nlu_test.yml", "--model", str(MODEL),
         "--out", str(tmp_path), "--successes"],
        cwd=PROJECT, env=ENV, check=True, capture_output=True, timeout=600,
    )
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = tmp_path / name
        if path.exists():
            rows += json.loads(path.read_text(encoding="utf-8"))
    assert rows, "rasa test nlu produced no per-example results"
    by_lang: dict[str, list[tuple[str, str]]] = {"zh": [], "en": []}
    for row in rows:
        lang = "zh" if HAN.search(row["text"]) else "en"
        by_lang[lang].append((row["intent"], row["intent_prediction"]["name"]))
    for lang, pairs in by_lang.items():
        assert len(pairs) >= 25, f"held-out {lang} split is too small ({len(pairs)})"
        f1 = macro_f1(pairs)
        errors = [(g, p) for g, p in pairs if g != p]
        assert f1 >= 0.95, f"{lang} intent F1 {f1:.3f} < 0.95; errors: {errors[:10]}"


def test_core_test_stories_all_pass(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(RASA), "test", "core", "--stories", "tests/test_stories.yml", "--model",
         str(MODEL), "--out", str(tmp_path), "--fail-on-prediction-errors"],
        cwd=PROJECT, env=ENV, capture_output=True, text=True, timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, f"failing test stories:\n{detail}"


def test_macro_f1_counts_each_intent() -> None:
    assert macro_f1([("a", "a"), ("b", "b")]) == 1.0
    assert macro_f1([("a", "b"), ("b", "b")]) == pytest.approx((0 + 2 / 3) / 2)
