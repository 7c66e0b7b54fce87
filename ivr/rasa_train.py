"""Rasa training for set-up: keyed by the content of everything the model is built from, reused
from a per-user cache (so a second clone does not train again), and narrated by stage."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ivr.config import ROOT, Config
from ivr.core.errors import ConfigError, SetupError
from ivr.rasa_children import rasa_env

Say = Callable[[str], None]

_COMPONENT = re.compile(r"(Starting to train|Restored) component '(\w+)'")
_EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
_DONE = "Your Rasa model is trained"


def model_inputs(config: Config) -> list[Path]:
    """Every file the trained model depends on: config, domain, training data, custom
    components in the project (not the action server's code) and the Rasa lock."""
    project = config.rasa.project_dir
    files = [project / "config.yml", project / "domain.yml", *(project / "data").rglob("*.yml")]
    skip = {"actions", "tests", "scripts", "models", ".rasa", "results"}
    for path in project.rglob("*.py"):
        if not skip.intersection(path.relative_to(project).parts):
            files.append(path)
    text = ROOT / "ivr" / "text"  # the normaliser a custom NLU component may import
    if text.is_dir():
        files.extend(text.rglob("*.py"))
    files.append(project / "requirements.lock")
    return [f for f in files if f.is_file()]


def cached_model(cache_dir: Path, digest: str) -> Path:
    return cache_dir / "rasa-models" / f"{digest[:24]}.tar.gz"


def _copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def restore_cached(config: Config, digest: str) -> bool:
    """Copy a model trained from the same inputs out of the cache; False if there is none."""
    cached = cached_model(config.server.cache_dir, digest)
    if not cached.is_file():
        return False
    _copy_atomic(cached, config.rasa.model)
    return True


def save_to_cache(config: Config, digest: str) -> None:
    # A cache that cannot be written only costs the next clone a training run.
    with contextlib.suppress(OSError):
        _copy_atomic(config.rasa.model, cached_model(config.server.cache_dir, digest))


def stages(lines: Iterable[str]) -> Iterator[str]:
    """Human-readable stage changes from ``rasa train`` output (log lines, tqdm bars)."""
    shown = ""
    for line in lines:
        stage = ""
        if match := _COMPONENT.search(line):
            verb = "training" if match.group(1).startswith("Starting") else "restored"
            stage = f"{verb} {match.group(2)}"
        elif match := _EPOCHS.search(line):
            pct = int(match.group(1))
            if pct and pct % 10 == 0 and shown.startswith("training "):
                stage = f"{shown.split(' (')[0]} ({pct}% of epochs)"
        elif _DONE in line:
            stage = "saving the model"
        if stage and stage != shown:
            shown = stage
            yield stage


def _split_output(stream: Iterable[bytes]) -> Iterator[str]:
    """Lines of a byte stream, treating tqdm's carriage returns as line ends."""
    pending = b""
    for chunk in stream:
        pending += chunk
        *complete, pending = re.split(rb"[\r\n]", pending)
        for raw in complete:
            yield raw.decode("utf-8", "replace")
    if pending:
        yield pending.decode("utf-8", "replace")


def train(config: Config, say: Say) -> None:
    """Run ``rasa train`` (its full output in ``<data_dir>/logs/rasa-train.log``)."""
    rasa = config.rasa.venv / "bin" / "rasa"
    if not rasa.exists():
        raise ConfigError(f"setting rasa.venv: {rasa} not found (run the set-up: make run)")
    out = config.rasa.model.parent
    out.mkdir(parents=True, exist_ok=True)
    log_path = config.server.data_dir / "logs" / "rasa-train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **rasa_env())  # PYTHONPATH: the NLU pipeline imports ivr.text
    env["RASA_CACHE_DIRECTORY"] = str(config.server.cache_dir / "rasa-train-cache")
    name = config.rasa.model.name.removesuffix(".tar.gz")
    cmd = [str(rasa), "train", "--fixed-model-name", name, "--out", str(out)]
    started = time.monotonic()
    with log_path.open("wb") as log, subprocess.Popen(
        cmd, cwd=config.rasa.project_dir, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()

        def chunks() -> Iterator[bytes]:
            while chunk := os.read(fd, 4096):
                log.write(chunk)
                yield chunk

        for stage in stages(_split_output(chunks())):
            say(f"Rasa training: {stage} ({time.monotonic() - started:.0f} s)")
        code = proc.wait()
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-8:]
        raise SetupError(f"rasa train failed (exit {code}); full output in {log_path}; "
                         "last lines:\n    " + "\n    ".join(tail))
    if not config.rasa.model.exists():
        raise SetupError(f"rasa train finished but {config.rasa.model} is missing (setting "
                         f"rasa.model); see {log_path}")
