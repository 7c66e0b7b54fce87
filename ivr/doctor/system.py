"""Doctor checks of the machine: Python, system packages, the two virtualenvs."""

from __future__ import annotations

import ctypes.util
import hashlib
import shutil
import subprocess
from pathlib import Path

from ivr.audio.vad import WebRtcVad
from ivr.config import ROOT, Config
from ivr.doctor.report import Finding, fail, ok, warn

APT = "apt-get install espeak-ng libespeak-ng1 libportaudio2"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_system() -> list[Finding]:
    out = []
    exe = shutil.which("espeak-ng")
    out.append(ok("espeak-ng", exe) if exe else
               fail("espeak-ng", "not found on PATH (caller audio for tests, fixtures)",
                    f"{APT} (as root)"))
    for lib, name, use in (("espeak-ng", "libespeak-ng1", "pyttsx3 speaks with it"),
                           ("portaudio", "libportaudio2", "the softphone's sound devices")):
        found = ctypes.util.find_library(lib)
        if found:
            out.append(ok(name, found))
        elif name == "libportaudio2":
            out.append(warn(name, f"not installed ({use}; calls work without it)", APT))
        else:
            out.append(fail(name, f"not installed ({use})", APT))
    return out


def check_vad(config: Config) -> list[Finding]:
    """Whether answers can end at the caller's last sound (``asr.vad_hangover = false``)."""
    if config.asr.vad_hangover:
        return [ok("vad", "WebRTC VAD with its hangover (asr.vad_hangover = true)")]
    if not WebRtcVad(8000, config.asr.vad_aggressiveness, hangover=False).hangover:
        return [ok("vad", "WebRTC VAD decisions without its hangover")]
    return [warn("vad", "this webrtcvad build does not export WebRtcVad_CalcVad*khz: every "
                 "answer ends 60-100 ms later (the VAD's hangover)",
                 "make run (re-installs webrtcvad-wheels from pyproject.toml)")]


def check_venvs(config: Config) -> list[Finding]:
    out = []
    venv = ROOT / ".venv"
    marker = venv / ".ivr-setup.sha256"
    if not (venv / "bin" / "ivr").exists():
        out.append(fail(".venv", f"{venv} has no ivr command", "make run (runs the set-up)"))
    elif marker.exists() and marker.read_text().strip() == _sha256(ROOT / "pyproject.toml"):
        out.append(ok(".venv", f"{venv} matches pyproject.toml"))
    else:
        out.append(warn(".venv", "installed from an older pyproject.toml",
                        "make run (re-installs the dependencies)"))
    rasa_venv = config.rasa.venv
    rasa = rasa_venv / "bin" / "rasa"
    lock = config.rasa.project_dir / "requirements.lock"
    rasa_marker = rasa_venv / ".ivr-lock.sha256"
    where = f"{rasa_venv} -> {rasa_venv.resolve()}" if rasa_venv.is_symlink() else str(rasa_venv)
    if not rasa.exists():
        out.append(fail("rasa venv", f"{where}: no rasa command (setting rasa.venv)",
                        "make run (builds it, or links the per-user shared copy)"))
        return out
    if rasa_marker.exists() and lock.is_file() and \
            rasa_marker.read_text().strip() == _sha256(lock):
        out.append(ok("rasa venv", f"{where} matches {lock.name}"))
    else:
        out.append(warn("rasa venv", f"{where} was not built from the current {lock.name}",
                        "make run (rebuilds it)"))
    try:
        version = subprocess.run([str(rasa_venv / "bin" / "python"), "-c",
                                  "import importlib.metadata as m; print(m.version('rasa'))"],
                                 capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        version = f"? ({exc})"
    out.append(ok("rasa version", version) if version.startswith("3.6") else
               fail("rasa version", f"{version or 'not importable'} (needs 3.6)",
                    "delete the Rasa venv and run make run"))
    return out
