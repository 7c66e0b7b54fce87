"""Model directory validation (file layout only; libvosk is not involved)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from ivr.asr.model_files import unpack_packed_files, validate_model_dir
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


def _pack(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data))
    return path


def test_packed_file_is_unpacked_beside_itself_once(tmp_path: Path) -> None:
    make_model(tmp_path, "conf/mfcc.conf", "graph/HCLG.fst")
    packed = _pack(tmp_path / "am" / "final.mdl.gz", b"model bytes " * 1000)
    with pytest.raises(ModelError, match=r"final\.mdl\.gz is there"):
        validate_model_dir(tmp_path)
    assert unpack_packed_files(tmp_path) == [tmp_path / "am" / "final.mdl"]
    assert (tmp_path / "am" / "final.mdl").read_bytes() == b"model bytes " * 1000
    validate_model_dir(tmp_path)
    assert unpack_packed_files(tmp_path) == []  # up to date: left alone
    assert [p.name for p in packed.parent.iterdir() if p.name.startswith(".")] == []


def test_newer_archive_replaces_the_unpacked_file(tmp_path: Path) -> None:
    target = make_model(tmp_path, "am/final.mdl") / "am" / "final.mdl"
    _pack(tmp_path / "am" / "final.mdl.gz", b"new")
    os.utime(target, (1_000_000, 1_000_000))  # older than the archive
    assert unpack_packed_files(tmp_path) == [target]
    assert target.read_bytes() == b"new"


def test_broken_archive_is_a_model_error_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ModelError, match="could not unpack") as info:
        unpack_packed_files(tmp_path)
    assert info.value.code is ErrorCode.MODEL_INVALID
    assert sorted(p.name for p in (tmp_path / "am").iterdir()) == ["final.mdl.gz"]


def test_repository_test_models_unpack_and_validate() -> None:
    root = Path(__file__).resolve().parents[2] / "audio" / "models"
    for name in ("tiny-zh-v2", "tiny-en-v2"):
        assert (root / name / "am" / "final.mdl.gz").is_file()
        unpack_packed_files(root / name)
        assert validate_model_dir(root / name).lookahead
