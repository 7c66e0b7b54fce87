"""A caller script: what the simulated caller does, turn by turn, and what should result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr.core.errors import ConfigError
from ivr.core.types import Language


@dataclass(frozen=True)
class CallerTurn:
    """One caller action after the bot has finished speaking (or ``barge_in_ms`` into it)."""

    say: str | None = None
    wav: Path | None = None
    digits: str = ""
    barge_in_ms: int | None = None
    # Go on this long after the previous turn instead of waiting for the bot (a caller who
    # pauses in the middle of an answer: "一 二 … 三 四").
    pause_ms: int | None = None
    silence_ms: int = 0
    hangup: bool = False
    # Wire messages sent verbatim before the turn's audio (malformed-input tests).
    raw: tuple[str, ...] = ()
    # The language the turn is spoken in when not the script's (after a language switch): its
    # WAV is rendered with that language's voice.
    lang: Language | None = None


@dataclass(frozen=True)
class CallScript:
    name: str
    lang: Language
    turns: tuple[CallerTurn, ...]
    customer: dict[str, str] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # Wire messages sent verbatim after ``connected`` and before ``start``.
    before_start: tuple[str, ...] = ()
    # outbound: the bot called; the callee may speak first ("喂?") before any greeting.
    outbound: bool = False
    # The recognizer models the script's words need ("" = the shipped tiny test models;
    # "v2" = audio/models/tiny-*-v2, see audio/fixtures-v2).
    models: str = ""


def _turn(raw: Any, base: Path, where: str) -> CallerTurn:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a turn must be a mapping")
    known = {"say", "wav", "digits", "barge_in_ms", "pause_ms", "silence_ms", "hangup", "raw",
             "lang"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    wav = base / str(raw["wav"]) if raw.get("wav") else None
    return CallerTurn(
        say=str(raw["say"]) if raw.get("say") is not None else None,
        wav=wav,
        digits=str(raw.get("digits", "")),
        barge_in_ms=int(raw["barge_in_ms"]) if raw.get("barge_in_ms") is not None else None,
        pause_ms=int(raw["pause_ms"]) if raw.get("pause_ms") is not None else None,
        silence_ms=int(raw.get("silence_ms", 0)),
        hangup=bool(raw.get("hangup", False)),
        raw=tuple(str(m) for m in raw.get("raw") or ()),
        lang=Language(raw["lang"]) if raw.get("lang") else None,
    )


def _checked_turn(raw: Any, base: Path, where: str) -> CallerTurn:
    try:
        return _turn(raw, base, where)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def load_script(path: Path) -> CallScript:
    """Read ``script.yaml``; relative WAV paths are relative to the script's folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"caller script {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("turns"), list):
        raise ConfigError(f"caller script {path}: needs a 'turns' list")
    try:
        lang = Language(raw.get("lang", "zh"))
    except ValueError as exc:
        raise ConfigError(f"caller script {path}: unknown lang {raw.get('lang')!r}") from exc
    turns = tuple(
        _checked_turn(t, path.parent, f"{path}: turn {i + 1}")
        for i, t in enumerate(raw["turns"])
    )
    customer = {str(k): str(v) for k, v in (raw.get("customer") or {}).items()}
    return CallScript(
        name=str(raw.get("name", path.parent.name)),
        lang=lang,
        turns=turns,
        customer=customer,
        expect=dict(raw.get("expect") or {}),
        path=path,
        before_start=tuple(str(m) for m in raw.get("before_start") or ()),
        outbound=raw.get("direction", "inbound") == "outbound",
        models=str(raw.get("models") or ""),
    )
