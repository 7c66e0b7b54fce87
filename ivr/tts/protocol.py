"""Messages between the TTS pool (parent) and a worker process. All are picklable."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class JobKind(StrEnum):
    RENDER = "render"
    VOICES = "voices"
    # Fault injection for tests: the worker sleeps for ``seconds`` or exits abruptly.
    HANG = "hang"
    CRASH = "crash"


@dataclass(frozen=True, slots=True)
class Job:
    kind: JobKind
    text: str = ""
    voice_id: str = ""
    rate_wpm: int = 175
    volume: float = 1.0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ready:
    """Sent once by a worker when its engine is initialised."""


@dataclass(frozen=True, slots=True)
class Rendered:
    data: bytes
    rate: int


@dataclass(frozen=True, slots=True)
class Voices:
    voices: tuple[VoiceInfo, ...]


@dataclass(frozen=True, slots=True)
class Failed:
    message: str


Reply = Rendered | Voices | Failed
