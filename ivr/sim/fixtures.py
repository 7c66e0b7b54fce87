"""Caller audio for fixture scripts, synthesized with espeak-ng from each turn's text.

A turn ``{say: "是", wav: "01.wav"}`` gets ``01.wav`` rendered when missing or stale (the text,
voice and settings are hashed into ``.render.json`` beside the script)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from ivr.core.errors import ConfigError
from ivr.core.types import Language
from ivr.sim.script import load_script

VOICES = {Language.ZH: "cmn", Language.EN: "en-us"}
SPEED = 160
PITCH = 50


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ConfigError("espeak-ng is not installed (apt-get install espeak-ng)")
    return exe


def render_phrase(text: str, lang: Language, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.wav")
    subprocess.run([_espeak(), "-v", VOICES[lang], "-s", str(SPEED), "-p", str(PITCH),
                    "-w", str(tmp), text], check=True, capture_output=True, timeout=30)
    tmp.replace(out)


def render_key(text: str, lang: Language) -> str:
    """The ``.render.json`` stamp of a WAV rendered (or recorded) for ``text``."""
    return hashlib.sha256(f"{text}|{VOICES[lang]}|{SPEED}|{PITCH}".encode()).hexdigest()[:16]


def synthesize_script(script_path: Path, *, force: bool = False) -> int:
    script = load_script(script_path)
    stamp_path = script_path.parent / ".render.json"
    stamps: dict[str, str] = {}
    if stamp_path.exists():
        stamps = json.loads(stamp_path.read_text(encoding="utf-8"))
    rendered = 0
    for turn in script.turns:
        if turn.wav is None or turn.say is None:
            continue
        lang = turn.lang or script.lang  # a turn after a language switch has its own voice
        key = render_key(turn.say, lang)
        name = turn.wav.name
        if not force and turn.wav.exists() and stamps.get(name) == key:
            continue
        render_phrase(turn.say, lang, turn.wav)
        stamps[name] = key
        rendered += 1
    stamp_path.write_text(json.dumps(stamps, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return rendered


def synthesize_all(root: Path, *, force: bool = False) -> int:
    return sum(synthesize_script(p, force=force) for p in sorted(root.rglob("script.yaml")))
