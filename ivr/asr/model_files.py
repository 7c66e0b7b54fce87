"""Checks that a directory holds the files a Vosk model needs, before libvosk touches it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr.core.errors import ErrorCode, ModelError

REQUIRED_FILES = ("am/final.mdl", "conf/mfcc.conf")
STATIC_GRAPH = ("graph/HCLG.fst",)
LOOKAHEAD_GRAPH = ("graph/HCLr.fst", "graph/Gr.fst")
WORDS_FILE = "graph/words.txt"


@dataclass(frozen=True, slots=True)
class ModelLayout:
    """A validated model directory. ``lookahead`` models accept runtime grammars."""

    path: Path
    lookahead: bool

    @property
    def words_path(self) -> Path | None:
        path = self.path / WORDS_FILE
        return path if path.is_file() else None


def validate_model_dir(path: Path) -> ModelLayout:
    """Layout of a Vosk model directory; ``ModelError`` names the missing path or file."""
    if not path.is_dir():
        raise ModelError(f"Vosk model directory not found: {path}", code=ErrorCode.MODEL_MISSING)
    for rel in REQUIRED_FILES:
        if not (path / rel).is_file():
            raise ModelError(
                f"Vosk model at {path} is missing {rel}", code=ErrorCode.MODEL_INVALID
            )
    lookahead = all((path / rel).is_file() for rel in LOOKAHEAD_GRAPH)
    if not lookahead and not (path / STATIC_GRAPH[0]).is_file():
        raise ModelError(
            f"Vosk model at {path} has no decoding graph: needs {STATIC_GRAPH[0]} "
            f"or {' + '.join(LOOKAHEAD_GRAPH)}",
            code=ErrorCode.MODEL_INVALID,
        )
    return ModelLayout(path=path, lookahead=lookahead)


def read_vocabulary(layout: ModelLayout) -> frozenset[str]:
    """Words of the model's graph (``graph/words.txt``), without ``<eps>`` and ``#`` symbols."""
    words_path = layout.words_path
    if words_path is None:
        return frozenset()
    words = set()
    with words_path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if parts and parts[0] != "<eps>" and not parts[0].startswith("#"):
                words.add(parts[0])
    return frozenset(words)
