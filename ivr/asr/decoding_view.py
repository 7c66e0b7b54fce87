"""Decoding options for a Vosk model without touching the model: a *view* of the model directory
(symlinks to its files) with its own ``conf/model.conf``, which libvosk reads at load.

Why: Kaldi's looped nnet3 decoding evaluates the acoustic model in chunks of
``--frames-per-chunk`` input frames (default 20, i.e. 210 ms at subsampling 3), and a partial
result can only show a word once the chunk holding it has been evaluated. With the default, the
first partial word of an answer comes 210–430 ms after the caller starts, depending on where the
chunk boundaries fall (136 fixture utterances, README "Turn latency and barge-in"). Chunks of 6
frames make it 210–250 ms whatever the alignment, with the same final text, at ~1.7× the
decoding CPU of the tiny test models. The model directory itself may be read-only (a shared or
packaged model), so the options go into a view under the data directory."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ivr.core.errors import ErrorCode, ModelError

MODEL_CONF = "model.conf"
_DONE = ".view-complete"


@dataclass(frozen=True, slots=True)
class DecodingOptions:
    """``frames_per_chunk``: input frames per acoustic-model evaluation; 0 keeps the model's."""

    frames_per_chunk: int = 0

    def __post_init__(self) -> None:
        if self.frames_per_chunk and not 3 <= self.frames_per_chunk <= 300:
            raise ValueError("frames_per_chunk must be 0 (the model's own) or 3..300")

    def options(self) -> dict[str, str]:
        return {"frames-per-chunk": str(self.frames_per_chunk)} if self.frames_per_chunk else {}


def model_conf_with(original: str, options: dict[str, str]) -> str:
    """``original`` model.conf with each option set (an existing line for it is replaced)."""
    kept = [line for line in original.splitlines()
            if line.strip() and not any(line.strip().startswith(f"--{name}=") for name in options)]
    return "\n".join([*kept, *(f"--{name}={value}" for name, value in options.items())]) + "\n"


def decoding_view(model: Path, root: Path, options: DecodingOptions) -> Path:
    """The directory libvosk should load: ``model`` itself when no option is set, else a view
    under ``root`` named after the model and a hash of its path and configuration. Built once
    (atomically: concurrent processes each build their own copy and the first rename wins)."""
    wanted = options.options()
    if not wanted:
        return model
    model = model.resolve()
    conf = model / "conf" / MODEL_CONF
    original = conf.read_text(encoding="utf-8") if conf.is_file() else ""
    text = model_conf_with(original, wanted)
    digest = hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()[:12]
    view = root / f"{model.name}-{digest}"
    if (view / _DONE).is_file():
        return view
    root.mkdir(parents=True, exist_ok=True)
    building = root / f".{view.name}.{os.getpid()}.part"
    shutil.rmtree(building, ignore_errors=True)
    try:
        building.mkdir()
        for entry in model.iterdir():
            if entry.name != "conf":
                (building / entry.name).symlink_to(entry)
        (building / "conf").mkdir()
        if (model / "conf").is_dir():
            for entry in (model / "conf").iterdir():
                if entry.name != MODEL_CONF:
                    (building / "conf" / entry.name).symlink_to(entry)
        (building / "conf" / MODEL_CONF).write_text(text, encoding="utf-8")
        (building / _DONE).write_text(f"{model}\n", encoding="utf-8")
        try:
            building.rename(view)
        except OSError:
            if not (view / _DONE).is_file():  # not another process's finished view: replace it
                shutil.rmtree(view, ignore_errors=True)
                building.rename(view)
    except OSError as exc:
        raise ModelError(f"could not prepare the decoding view of {model} in {root}: {exc}",
                         code=ErrorCode.MODEL_INVALID) from exc
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return view
