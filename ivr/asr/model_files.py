"""Checks that a directory holds the files a Vosk model needs, before libvosk touches it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr.core.errors import ErrorCode, ModelError

REQUIRED_FILES = ("am/final.mdl", "conf/mfcc.conf")
STATIC_GRAPH = ("graph/HCLG.fst",)
LOOKAHEAD_GRAPH = ("graph/HCLr.fst", "graph/Gr.fst")


@dataclass(frozen=True, slots=True)
class ModelLayout:
    """A validated model directory. ``lookahead`` models accept runtime grammars."""

    path: Path
    lookahead: bool


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

