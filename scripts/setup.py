#!/usr/bin/env python3
"""Bootstrap everything ``make run`` / ``make test`` need, idempotently (standard library only).

1. Debian packages (installed when running as root, else the exact command is printed).
2. The IVR virtualenv ``.venv`` (re-installed only when pyproject.toml changes).
3. The Rasa virtualenv ``.venv-rasa`` from ``rasa_project/requirements.lock``.
4. ``ivr setup``: speech models, Rasa training, prompt rendering (each skipped when up to date).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
RASA_VENV = ROOT / ".venv-rasa"
DEBIAN_PACKAGES = {
    "run": ["espeak-ng", "libespeak-ng1", "libportaudio2"],
    # several workers on one machine (make run-cluster): the database and the broker
    "cluster": ["espeak-ng", "libespeak-ng1", "libportaudio2", "postgresql", "redis-server"],
    "test": ["espeak-ng", "libespeak-ng1", "libportaudio2", "chromium", "postgresql",
             "redis-server"],
}


def log(msg: str) -> None:
    print(f"[setup] {msg}", flush=True)


def missing_debs(packages: list[str]) -> list[str]:
    missing = []
    for pkg in packages:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                             capture_output=True, text=True)
        if "install ok installed" not in res.stdout:
            missing.append(pkg)
    return missing


def ensure_debs(packages: list[str]) -> None:
    if shutil.which("dpkg-query") is None:
        log("not a Debian/Ubuntu system: make sure these are installed: " + " ".join(packages))
        return
    missing = missing_debs(packages)
    if not missing:
        return
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        sys.exit(f"[setup] missing system packages. Run:\n  sudo apt-get update && sudo "
                 f"{' '.join(cmd)}")
    log("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(cmd, check=True, env=env)


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def ensure_ivr_venv() -> None:
    marker = VENV / ".ivr-setup.sha256"
    digest = _digest(ROOT / "pyproject.toml")
    if marker.exists() and marker.read_text().strip() == digest:
        return
    started = time.monotonic()
    if not (VENV / "bin" / "python").exists():
        log("creating .venv")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    marker.unlink(missing_ok=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    marker.write_text(digest + "\n")
    log(f".venv ready in {time.monotonic() - started:.0f} s")


def ensure_rasa_venv() -> None:
    spec = importlib.util.spec_from_file_location("rasa_env", ROOT / "scripts" / "rasa_env.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ensure_rasa_venv(RASA_VENV, ROOT / "rasa_project" / "requirements.lock")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--for", dest="purpose", choices=sorted(DEBIAN_PACKAGES), default="run")
    parser.add_argument("--config", help="config file passed to `ivr setup`")
    args = parser.parse_args()
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"[setup] Python 3.11 is required (this is {sys.version.split()[0]})")
    started = time.monotonic()
    ensure_debs(DEBIAN_PACKAGES[args.purpose])
    ensure_ivr_venv()
    ensure_rasa_venv()
    cmd = [str(VENV / "bin" / "ivr")]
    if args.config:
        cmd += ["--config", args.config]
    subprocess.run([*cmd, "setup"], check=True)
    log(f"set-up complete in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
