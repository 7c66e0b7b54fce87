"""Engine audio → telephone audio: resample to 8 kHz and trim silence at both ends."""

from __future__ import annotations

import numpy as np
import soxr

from ivr.core.audio import TELEPHONY_RATE, Pcm

SILENCE_THRESHOLD = 200  # |sample| below this (about -44 dBFS) counts as silence
KEEP_MS = 5


def trim_silence(pcm: Pcm, threshold: int = SILENCE_THRESHOLD, keep_ms: int = KEEP_MS) -> Pcm:
    """Cut leading and trailing silence, keeping ``keep_ms`` on each side."""
    samples = np.frombuffer(pcm.data, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= threshold)
    if loud.size == 0:
        return Pcm(b"", pcm.rate)
    keep = pcm.rate * keep_ms // 1000
    start = max(0, int(loud[0]) - keep)
    stop = min(samples.size, int(loud[-1]) + 1 + keep)
    return Pcm(samples[start:stop].tobytes(), pcm.rate)


def to_telephone(pcm: Pcm) -> Pcm:
    """Resample PCM16 mono to ``TELEPHONY_RATE`` with soxr (high quality) and trim it."""
    if pcm.rate != TELEPHONY_RATE and pcm.data:
        samples = np.frombuffer(pcm.data, dtype="<i2")
        out = soxr.resample(samples, pcm.rate, TELEPHONY_RATE, quality="HQ")
        pcm = Pcm(np.asarray(out, dtype="<i2").tobytes(), TELEPHONY_RATE)
    return trim_silence(Pcm(pcm.data, TELEPHONY_RATE))
