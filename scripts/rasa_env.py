#!/usr/bin/env python3
"""Create (or refresh) the separate Rasa virtualenv, reproducibly.

Standard library only, so it runs with the system ``python3`` (3.11) before any venv exists.

Rasa 3.6.21 and rasa-sdk 3.6.2 declare ``Requires-Python <3.11`` but train and serve on 3.11
when installed with ``--no-deps --ignore-requires-python`` (recipe: shared/notes/ENVIRONMENT.md).

Normal use (installs exactly what the lock pins, then records the lock's SHA-256 in the venv):

    python3 scripts/rasa_env.py --venv .venv-rasa --lock rasa_project/requirements.lock

A second run with an unchanged lock only hashes the lock and returns (well under 2 s).

Regenerating the lock (maintainers only; resolves from the recipe, then ``pip freeze``):

    python3 scripts/rasa_env.py --venv /tmp/venv-rasa-relock \
        --lock rasa_project/requirements.lock --relock

Library use (the set-up orchestrator):

    from scripts.rasa_env import ensure_rasa_venv   # or load the file by path
    changed = ensure_rasa_venv(Path(".venv-rasa"), Path("rasa_project/requirements.lock"))
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

RASA_VERSION = "3.6.21"
RASA_SDK_VERSION = "3.6.2"
MARKER_NAME = ".ivr-lock.sha256"

# Rasa's own Requires-Dist markers say python_version < "3.11"; we evaluate them as if on 3.10
# so the pins they would have applied (numpy, scipy, scikit-learn, dask) are kept.
_MARKER_ENV = {"python_version": "3.10", "python_full_version": "3.10.12"}

# Constraints from ENVIRONMENT.md (things that otherwise resolve to 3.11-incompatible releases).
RELOCK_CONSTRAINTS = [
    "numpy>=1.23.5,<1.25",
    "scipy>=1.10,<1.11",
    "scikit-learn>=0.22,<1.2",
    "dask==2022.10.2",
    "jax<0.4.14",
    "jaxlib<0.4.14",
    "ml-dtypes<0.3",
    "matplotlib>=3.6,<3.8",
]
# Requirements replaced or added on top of rasa's list.
RELOCK_OVERRIDES = {
    "matplotlib": "matplotlib>=3.6,<3.8",  # rasa says <3.6: no cp311 wheels there
    "dask": "dask==2022.10.2",  # marker excludes 3.11; name it explicitly
}
RELOCK_EXTRA = [
    "jieba>=0.39,<0.43",  # rasa[jieba] extra, for JiebaTokenizer
    "pytest>=7.4,<8",  # action-server unit tests (pytest 8+ needs packaging>=22; rasa pins 20.9)
]
RELOCK_DROP = {"rasa-sdk", "rasa_sdk"}  # installed in step 1 with --no-deps

# Packages that must never appear in the lock (installer tooling of the venv itself).
_LOCK_SKIP = {"pip"}

_SMOKE = (
    "import importlib.metadata as m, rasa, rasa_sdk, jieba, tensorflow;"
    f"assert m.version('rasa') == {RASA_VERSION!r}, m.version('rasa');"
    f"assert m.version('rasa-sdk') == {RASA_SDK_VERSION!r}, m.version('rasa-sdk')"
)


def _log(msg: str) -> None:
    print(f"[rasa_env] {msg}", file=sys.stderr, flush=True)


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(cmd: Sequence[str | Path], *, quiet: bool = False, log: IO[bytes] | None = None
         ) -> None:
    """Run a command; with ``log`` its output goes there (the caller shows it on failure)."""
    line = "$ " + " ".join(str(c) for c in cmd)
    if log is None:
        _log(line)
    else:
        log.write(f"[rasa_env] {line}\n".encode())
        log.flush()
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    out: int | IO[bytes] | None = subprocess.DEVNULL if quiet else log
    subprocess.run([str(c) for c in cmd], check=True, env=env, stdout=out,
                   stderr=subprocess.STDOUT if log is not None else None)


def _create_venv(venv: Path, log: IO[bytes] | None = None) -> None:
    # Use the base interpreter even when called from inside another venv.
    base = getattr(sys, "_base_executable", None) or sys.executable
    _run([base, "-m", "venv", str(venv)], log=log)


def _marker_ok(venv: Path, digest: str) -> bool:
    marker = venv / MARKER_NAME
    try:
        return _venv_python(venv).exists() and marker.read_text().strip() == digest
    except OSError:
        return False


def _lock_names(lock: Path) -> set[str]:
    names = set()
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-") and "==" in line:
            names.add(_canon(line.split("==", 1)[0].split("[", 1)[0]))
    return names


def _remove_unlocked(py: Path, lock: Path, log: IO[bytes] | None = None) -> None:
    """Uninstall distributions the lock does not pin (left over from an older lock)."""
    frozen = subprocess.run(
        [str(py), "-m", "pip", "freeze", "--all"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    keep = _lock_names(lock) | _LOCK_SKIP
    extra = sorted(
        name
        for name in (_canon(ln.split("==")[0].split(" @ ")[0]) for ln in frozen if ln.strip())
        if name not in keep
    )
    if extra:
        _run([py, "-m", "pip", "uninstall", "-y", *extra], log=log)


def ensure_rasa_venv(venv: Path, lock: Path, log: IO[bytes] | None = None) -> bool:
    """Make ``venv`` contain exactly the pins of ``lock``. Return True if anything changed.

    Fast path: if ``venv/.ivr-lock.sha256`` equals the lock's SHA-256, do nothing.
    The marker is removed before installing and written only after the install and an
    import smoke test succeed, so a failed or interrupted run never looks finished.
    """
    venv = Path(venv).absolute()
    lock = Path(lock).absolute()
    if not lock.is_file():
        raise FileNotFoundError(f"lock file not found: {lock}")
    digest = _sha256(lock)
    if _marker_ok(venv, digest):
        return False

    marker = venv / MARKER_NAME
    marker.unlink(missing_ok=True)
    py = _venv_python(venv)
    if not py.exists():
        _create_venv(venv, log)
    _run(
        [
            py,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--ignore-requires-python",
            "--no-warn-script-location",
            "-r",
            lock,
        ],
        log=log,
    )
    _remove_unlocked(py, lock, log)
    _run([py, "-c", _SMOKE], quiet=log is None, log=log)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(digest + "\n")
    tmp.replace(marker)
    return True


# --------------------------------------------------------------------------------------------
# Lock regeneration (maintainer path): resolve from the recipe in a fresh venv, then freeze.
# --------------------------------------------------------------------------------------------

_LIST_REQS = r"""
import importlib.metadata as md, json, sys
from pip._vendor.packaging.requirements import Requirement
env = json.loads(sys.argv[1])
out = []
for spec in md.requires("rasa") or []:
    r = Requirement(spec)
    if r.marker is not None:
        # extras are never wanted here; evaluate the rest as on CPython 3.10 / linux
        if "extra" in str(r.marker):
            continue
        if not r.marker.evaluate(dict(env, extra="")):
            continue
    r.marker = None
    out.append([r.name, str(r)])
print(json.dumps(out))
"""


def _canon(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def relock(venv: Path, lock: Path) -> None:
    """Build ``venv`` from scratch following the recipe and write ``lock`` from ``pip freeze``."""
    import json

    venv = Path(venv).absolute()
    lock = Path(lock).absolute()
    if venv.exists():
        shutil.rmtree(venv)
    _create_venv(venv)
    py = _venv_python(venv)
    _run(
        [
            py,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--ignore-requires-python",
            f"rasa=={RASA_VERSION}",
            f"rasa-sdk=={RASA_SDK_VERSION}",
        ]
    )
    raw = subprocess.run(
        [str(py), "-c", _LIST_REQS, json.dumps(_MARKER_ENV)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    reqs: list[str] = []
    overrides = dict(RELOCK_OVERRIDES)
    for raw_name, spec in json.loads(raw):
        name = _canon(raw_name)
        if name in RELOCK_DROP:
            continue
        reqs.append(overrides.pop(name, spec))
    reqs.extend(overrides.values())
    reqs.extend(RELOCK_EXTRA)
    with tempfile.TemporaryDirectory() as td:
        rq = Path(td) / "requirements.in"
        cs = Path(td) / "constraints.txt"
        rq.write_text("\n".join(reqs) + "\n")
        cs.write_text("\n".join(RELOCK_CONSTRAINTS) + "\n")
        _log("requirements:\n  " + "\n  ".join(reqs))
        # No --ignore-requires-python here: it would pick releases built for newer Pythons.
        _run([py, "-m", "pip", "install", "--no-warn-script-location", "-r", rq, "-c", cs])
    _run([py, "-c", _SMOKE], quiet=True)
    frozen = subprocess.run(
        [str(py), "-m", "pip", "freeze", "--all"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    lines = []
    for line in frozen:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if " @ " in line or line.startswith("-e") or "==" not in line:
            raise RuntimeError(f"non-pinned or local entry in freeze output: {line!r}")
        if _canon(line.split("==")[0]) in _LOCK_SKIP:
            continue
        lines.append(line)
    lines.sort(key=lambda s: _canon(s.split("==")[0]))
    header = [
        f"# Rasa {RASA_VERSION} + rasa-sdk {RASA_SDK_VERSION} + jieba, CPython 3.11, linux x86_64.",
        "# Generated by: python3 scripts/rasa_env.py --relock (pip freeze of a recipe-built venv).",
        "# Installed with: pip install --no-deps --ignore-requires-python -r <this file>",
        "# Do not edit by hand; `pip check` only complains about matplotlib (rasa wants <3.6).",
    ]
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("\n".join(header + lines) + "\n")
    (venv / MARKER_NAME).write_text(_sha256(lock) + "\n")
    _log(f"wrote {lock} ({len(lines)} pins)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", type=Path, default=Path(".venv-rasa"))
    ap.add_argument("--lock", type=Path, default=Path("rasa_project/requirements.lock"))
    ap.add_argument(
        "--relock",
        action="store_true",
        help="rebuild VENV from the recipe (deleting it) and rewrite LOCK",
    )
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    try:
        if args.relock:
            relock(args.venv, args.lock)
            changed = True
        else:
            changed = ensure_rasa_venv(args.venv, args.lock)
    except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
        _log(f"FAILED: {exc}")
        return 1
    _log(("updated" if changed else "up to date") + f" in {time.monotonic() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
