"""Model directory validation (file layout only; libvosk is not involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.asr.model_files import validate_model_dir
from ivr.core.errors import ErrorCode, ModelError


def make_model(root: Path, *files: str) -> Path:
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    return root


BASE = ("am/final.mdl", "conf/mfcc.conf")


def test_lookahead_model(tmp_path: Path) -> None:
    path = make_model(tmp_path, *BASE, "graph/HCLr.fst", "graph/Gr.fst")
    layout = validate_model_dir(path)  # official layout: no graph/words.txt needed
    assert layout.lookahead


def test_static_graph_model(tmp_path: Path) -> None:
    layout = validate_model_dir(make_model(tmp_path, *BASE, "graph/HCLG.fst"))
    assert not layout.lookahead


@pytest.mark.parametrize("missing", BASE)
def test_missing_required_file_is_named(tmp_path: Path, missing: str) -> None:
    files = [f for f in BASE if f != missing] + ["graph/HCLG.fst"]
    with pytest.raises(ModelError) as info:
        validate_model_dir(make_model(tmp_path, *files))
    assert missing in str(info.value) and str(tmp_path) in str(info.value)
    assert info.value.code is ErrorCode.MODEL_INVALID


def test_half_a_lookahead_graph_is_not_enough(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"HCLG\.fst"):
        validate_model_dir(make_model(tmp_path, *BASE, "graph/HCLr.fst"))


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found") as info:
        validate_model_dir(tmp_path / "absent")
    assert info.value.code is ErrorCode.MODEL_MISSING


def test_shared_tiny_models_validate() -> None:
    root = Path(__file__).resolve().parents[2].parent / "shared" / "models"
    if not root.is_dir():
        pytest.skip("shared models not present")
    for name in ("tiny-zh", "tiny-en"):
        layout = validate_model_dir(root / name)
        assert layout.lookahead
        assert not (root / name / "graph" / "words.txt").exists()  # the official layout
