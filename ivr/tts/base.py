"""Interfaces of the speech-synthesis layer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ivr.core.audio import Pcm
from ivr.core.types import Language


@dataclass(frozen=True, slots=True)
class VoiceConfig:
    """One engine voice and how to speak with it."""

    voice_id: str
    rate_wpm: int = 175
    volume: float = 1.0

    def __post_init__(self) -> None:
        if not self.voice_id:
            raise ValueError("voice_id must not be empty")
        if not 80 <= self.rate_wpm <= 450:  # espeak-ng clamps outside this range
            raise ValueError(f"rate_wpm {self.rate_wpm} is outside 80..450")
        if not 0.0 <= self.volume <= 1.0:
            raise ValueError(f"volume {self.volume} is outside 0.0..1.0")


class Synthesizer(Protocol):
    """Turns text into telephone-ready speech: PCM16 mono at ``TELEPHONY_RATE``."""

    async def synthesize(self, text: str, lang: Language) -> Pcm: ...


class Renderer(Protocol):
    """Renders text with one engine voice at the engine's native sample rate."""

    @property
    def engine_name(self) -> str: ...

    async def start(self, required_voices: Iterable[str] = ()) -> None: ...

    async def render(self, text: str, voice_id: str, rate_wpm: int, volume: float) -> Pcm: ...

    async def close(self) -> None: ...
