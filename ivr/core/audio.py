"""The one internal audio type: 16-bit little-endian signed mono PCM with a sample rate."""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_WIDTH = 2
TELEPHONY_RATE = 8000
ASR_RATE = 16000
FRAME_MS = 20


def frame_bytes(rate: int, ms: int = FRAME_MS) -> int:
    """Bytes of PCM16 mono audio in ``ms`` milliseconds at ``rate`` Hz."""
    return rate * ms // 1000 * SAMPLE_WIDTH


@dataclass(frozen=True, slots=True)
class Pcm:
    """A chunk of PCM16 mono audio."""

    data: bytes
    rate: int

    @property
    def duration_ms(self) -> float:
        return len(self.data) / SAMPLE_WIDTH * 1000.0 / self.rate

    def __post_init__(self) -> None:
        if len(self.data) % SAMPLE_WIDTH:
            raise ValueError("PCM16 data must have an even number of bytes")
