#!/usr/bin/env python3
"""Bootstrap everything ``make run`` / ``make test`` need, idempotently (standard library only).

1. Python 3.11 (re-runs itself with ``python3.11`` when started by another Python).
2. Debian packages (installed when running as root, else the exact command is printed).
3. The IVR virtualenv ``.venv`` (re-installed only when pyproject.toml changes).
4. The Rasa virtualenv from ``rasa_project/requirements.lock``: built once per user and lock in
   the per-user cache (``$XDG_CACHE_HOME/ivr`` or ``~/.cache/ivr``; ``server.cache_dir`` /
   ``IVR_SERVER_CACHE_DIR``) and linked as ``.venv-rasa``, so a second clone reuses it. An
   existing ``.venv-rasa`` directory is kept and updated in place.
5. ``ivr setup``: speech models, Rasa training, prompt rendering (each skipped when up to date).

Every failure ends with one message naming what to fix (``IVR_SETUP_DEBUG=1`` adds the Python
traceback); long tool output goes to ``var/logs/setup.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
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
LOCK = ROOT / "rasa_project" / "requirements.lock"
LOG = ROOT / "var" / "logs" / "setup.log"
DEBIAN_PACKAGES = {
    "run": ["espeak-ng", "libespeak-ng1", "libportaudio2"],
    "test": ["espeak-ng", "libespeak-ng1", "libportaudio2", "chromium"],
}
# Commands the IVR runs, checked on PATH (a package can be installed yet not reachable).
COMMANDS = {"espeak-ng": "espeak-ng libespeak-ng1"}


class SetupFailed(Exception):
    """A set-up step failed; the message says what to fix."""


def log(msg: str) -> None:
    print(f"[setup] {msg}", flush=True)


def ensure_python() -> None:
    if sys.version_info[:2] == (3, 11):
        return
    other = shutil.which("python3.11")
    if other and os.environ.get("IVR_SETUP_REEXEC") != "1":
        log(f"this is Python {sys.version.split()[0]}; re-running with {other}")
        os.environ["IVR_SETUP_REEXEC"] = "1"
        os.execv(other, [other, *sys.argv])
    raise SetupFailed(
        f"Python 3.11 is required (this is {sys.version.split()[0]} at {sys.executable}, and no "
        "python3.11 is on PATH). Install it (Debian/Ubuntu: `apt-get install python3.11 "
        "python3.11-venv`) or name it: `make run PYTHON=/path/to/python3.11`")


def run_logged(cmd: list[str], what: str, hint: str, env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` with its output appended to the set-up log; on failure, the log's tail."""
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        try:
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
        except OSError as exc:
            raise SetupFailed(f"{what}: cannot run {cmd[0]}: {exc.strerror}. {hint}") from exc
    if code != 0:
        raise SetupFailed(f"{what} failed (exit {code}). {hint}\n{log_tail()}")


def log_tail(lines: int = 12) -> str:
    try:
        tail = LOG.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"  last lines of {LOG}:\n" + "\n".join(f"    {line}" for line in tail)


def missing_debs(packages: list[str]) -> list[str]:
    missing = []
    for pkg in packages:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                             capture_output=True, text=True)
        if "install ok installed" not in res.stdout:
            missing.append(pkg)
    return missing


def ensure_debs(packages: list[str]) -> str:
    if shutil.which("dpkg-query") is None:
        log("not a Debian/Ubuntu system: make sure these are installed: " + " ".join(packages))
        return "system packages not checked"
    missing = missing_debs(packages)
    if missing:
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if os.geteuid() != 0:
            raise SetupFailed(f"missing system packages: {' '.join(missing)}. Install them as "
                              f"root, then run make again:\n  sudo apt-get update && sudo "
                              f"{' '.join(cmd)}")
        log("installing " + " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        hint = f"Check the network and apt sources, then run: apt-get update && {' '.join(cmd)}"
        run_logged(["apt-get", "update", "-qq"], "apt-get update", hint, env)
        run_logged(cmd, "apt-get install", hint, env)
    for command, debs in COMMANDS.items():
        if shutil.which(command) is None:
            raise SetupFailed(f"{command} not found on PATH ({os.environ.get('PATH', '')}): the "
                              f"IVR speaks and synthesizes test callers with it. Install the "
                              f"Debian packages `{debs}` (apt-get install {debs}) or put "
                              f"{command} on PATH")
    return "" if missing else "system packages present"


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def ensure_ivr_venv() -> str:
    marker = VENV / ".ivr-setup.sha256"
    digest = _digest(ROOT / "pyproject.toml")
    if marker.exists() and marker.read_text().strip() == digest:
        return ".venv up to date"
    started = time.monotonic()
    if not (VENV / "bin" / "python").exists():
        if importlib.util.find_spec("ensurepip") is None:
            raise SetupFailed(f"{sys.executable} cannot create virtualenvs (no ensurepip): "
                              "install python3.11-venv (apt-get install python3.11-venv)")
        log("creating .venv")
        run_logged([sys.executable, "-m", "venv", str(VENV)], "creating .venv",
                   "Delete .venv and run make again.")
    marker.unlink(missing_ok=True)
    log("installing the IVR and its dependencies into .venv (pip; 1-3 min the first time)")
    run_logged([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "-e",
                f"{ROOT}[dev]"], "pip install into .venv",
               "Check access to the Python package index (pip's PIP_INDEX_URL) and the log.")
    marker.write_text(digest + "\n")
    log(f".venv ready in {time.monotonic() - started:.0f} s")
    return ""


def user_cache(config: str | None) -> Path:
    """server.cache_dir from the environment or the config file, else the per-user default."""
    if os.environ.get("IVR_SERVER_CACHE_DIR"):
        return Path(os.environ["IVR_SERVER_CACHE_DIR"]).expanduser()
    if config:
        import tomllib

        path = Path(config)
        try:
            value = tomllib.loads(path.read_text(encoding="utf-8")).get("server", {}).get(
                "cache_dir")
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SetupFailed(f"config file {config}: {exc} (the --config / CONFIG= file)"
                              ) from exc
        if value:
            return (path.resolve().parent / Path(value).expanduser()).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "ivr"


def _rasa_env():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("rasa_env", ROOT / "scripts" / "rasa_env.py")
    if spec is None or spec.loader is None:
        raise SetupFailed("scripts/rasa_env.py is missing: restore it from git")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_rasa_venv(cache: Path) -> str:
    rasa_env = _rasa_env()
    hint = ("Check access to the Python package index and the log; delete the half-built "
            "virtualenv named above to start over.")
    digest = _digest(LOCK)
    if rasa_env._marker_ok(RASA_VENV, digest):  # whatever it is (a shared venv is left alone)
        shared = f" ({RASA_VENV.resolve()})" if RASA_VENV.is_symlink() else ""
        return f".venv-rasa up to date{shared}"
    in_place = RASA_VENV.is_dir() and not RASA_VENV.is_symlink()
    target = RASA_VENV if in_place else cache / f"rasa-venv-{digest[:16]}"
    LOG.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "rasa-venv.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # another clone may be building the same one
        if rasa_env._marker_ok(target, digest):
            log(f"reusing the Rasa virtualenv {target} (same lock)")
        else:
            log(f"building the Rasa virtualenv in {target} (Rasa 3.6 + TensorFlow, ~2.4 GB; "
                "2-5 min the first time, then shared by every clone with this lock)")
            try:
                with LOG.open("ab") as out:
                    rasa_env.ensure_rasa_venv(target, LOCK, log=out)
            except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
                raise SetupFailed(f"building the Rasa virtualenv {target} failed: {exc}. "
                                  f"{hint}\n{log_tail()}") from exc
    if not in_place:
        tmp = RASA_VENV.with_name(".venv-rasa.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        tmp.replace(RASA_VENV)
    log(f".venv-rasa ready in {time.monotonic() - started:.0f} s")
    return ""


def run_ivr_setup(config: str | None) -> None:
    cmd = [str(VENV / "bin" / "ivr")]
    if config:
        cmd += ["--config", config]
    code = subprocess.run([*cmd, "setup"]).returncode
    if code != 0:
        raise SetupFailed("")  # `ivr setup` has printed its message: that stays the last line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--for", dest="purpose", choices=sorted(DEBIAN_PACKAGES), default="run")
    parser.add_argument("--config", help="config file passed to `ivr setup`")
    args = parser.parse_args()
    started = time.monotonic()
    ensure_python()
    if args.config and not Path(args.config).is_file():
        raise SetupFailed(f"config file {args.config} does not exist (CONFIG= / --config); "
                          f"the bundled ones are in {ROOT / 'config'}")
    cache = user_cache(args.config)
    for step in (lambda: ensure_debs(DEBIAN_PACKAGES[args.purpose]), ensure_ivr_venv,
                 lambda: ensure_rasa_venv(cache)):
        skipped = step()  # '' when the step did something (it said what), else why not
        if skipped:
            log(f"{skipped} (skipped)")
    run_ivr_setup(args.config)
    log(f"set-up complete in {time.monotonic() - started:.1f} s")
    return 0


def entry() -> int:
    try:
        return main()
    except SetupFailed as exc:
        if str(exc):
            print(f"[setup] error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("[setup] interrupted; run make again to continue", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user; IVR_SETUP_DEBUG=1 shows it
        if os.environ.get("IVR_SETUP_DEBUG") == "1":
            raise
        print(f"[setup] error: unexpected {type(exc).__name__}: {exc} (run again with "
              f"IVR_SETUP_DEBUG=1 for details; log: {LOG})", file=sys.stderr, flush=True)
        return 1
    finally:
        with contextlib.suppress(OSError):
            sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(entry())
