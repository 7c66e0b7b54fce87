"""Provider-neutral media types the Asterisk adapter produces.

Mirrors ``ivr.telephony.provider`` (the engine's adapter interface) field for field until that
module is on this branch; then this module only re-exports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MediaStart:
    call_id: str
    rate: int = 8000
    frame_ms: int = 20
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AudioIn:
    pcm: bytes


@dataclass(frozen=True, slots=True)
class DigitIn:
    digit: str


@dataclass(frozen=True, slots=True)
class WireProblem:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class StreamEnded:
    reason: str = "stop"


MediaEvent = AudioIn | DigitIn | WireProblem | StreamEnded
