"""Checks that a directory holds the files a Vosk model needs, before libvosk touches it."""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ivr.core.errors import ErrorCode, ModelError

PACKED_SUFFIX = ".gz"
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
            packed = (path / rel).with_name((path / rel).name + PACKED_SUFFIX)
            hint = (f" ({packed.name} is there: `ivr setup` or starting the server unpacks it)"
                    if packed.is_file() else "")
            raise ModelError(
                f"Vosk model at {path} is missing {rel}{hint}", code=ErrorCode.MODEL_INVALID
            )
    lookahead = all((path / rel).is_file() for rel in LOOKAHEAD_GRAPH)
    if not lookahead and not (path / STATIC_GRAPH[0]).is_file():
        raise ModelError(
            f"Vosk model at {path} has no decoding graph: needs {STATIC_GRAPH[0]} "
            f"or {' + '.join(LOOKAHEAD_GRAPH)}",
            code=ErrorCode.MODEL_INVALID,
        )
    return ModelLayout(path=path, lookahead=lookahead)



def unpack_packed_files(path: Path) -> list[Path]:
    """Unpack a model's gzip-compressed files (``am/final.mdl.gz`` → ``am/final.mdl``, as the
    repository keeps its own test models) where the unpacked file is missing or older than its
    archive. Atomic: concurrent processes each write a file of their own and rename it. Returns
    the files unpacked; a directory with nothing packed is left as it is."""
    if not path.is_dir():
        return []
    done = []
    for packed in sorted(path.rglob(f"*{PACKED_SUFFIX}")):
        target = packed.with_name(packed.name.removesuffix(PACKED_SUFFIX))
        if target.is_file() and target.stat().st_mtime >= packed.stat().st_mtime:
            continue
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            with gzip.open(packed, "rb") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(partial, target)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            partial.unlink(missing_ok=True)
            raise ModelError(f"could not unpack {packed}: {exc}",
                             code=ErrorCode.MODEL_INVALID) from exc
        done.append(target)
    return done
