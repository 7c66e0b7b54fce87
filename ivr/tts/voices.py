"""Checking configured voice ids against the engine's voice list."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ivr.core.errors import ErrorCode, TtsError
from ivr.tts.protocol import VoiceInfo


def close_matches(wanted: str, voices: Iterable[VoiceInfo], limit: int = 5) -> list[str]:
    """Voice ids that look like ``wanted``: same last path part, substring, or similar spelling."""
    voices = list(voices)
    ids = [v.id for v in voices]
    needle = wanted.lower().rsplit("/", 1)[-1]
    found: list[str] = []
    for voice in voices:
        tail = voice.id.rsplit("/", 1)[-1]
        langs = [lang.lower() for lang in voice.languages]
        if needle and (needle == tail or needle in langs or needle in voice.name.lower()):
            found.append(voice.id)
    found += difflib.get_close_matches(wanted.lower(), ids, n=limit, cutoff=0.6)
    found += [i for i in ids if needle and len(needle) >= 2 and needle in i]
    return list(dict.fromkeys(found))[:limit]


def check_voices(required: Iterable[str], available: Iterable[VoiceInfo]) -> None:
    """Raise ``TtsError`` naming every missing voice id and its close matches."""
    available = list(available)
    known = {v.id.lower() for v in available}
    problems = []
    for voice_id in dict.fromkeys(required):
        if voice_id.lower() not in known:
            hints = close_matches(voice_id, available)
            hint = f"; close matches: {', '.join(hints)}" if hints else "; no close matches"
            problems.append(f"voice {voice_id!r} is not installed{hint}")
    if problems:
        raise TtsError(
            f"{'; '.join(problems)} ({len(available)} voices available)",
            code=ErrorCode.CONFIG_INVALID,
        )
