"""WAV files in and out of the simulator (any rate in, 8 kHz μ-law frames out)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ivr.audio.resample import resample
from ivr.core.audio import TELEPHONY_RATE


def read_wav_8k(path: Path) -> bytes:
    """PCM16 mono at 8 kHz from a WAV file (mixed down and resampled as needed)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit WAV is supported")
        rate, channels = wav.getframerate(), wav.getnchannels()
        data = wav.readframes(wav.getnframes())
    if channels > 1:
        samples = np.frombuffer(data, dtype="<i2").reshape(-1, channels).mean(axis=1)
        data = samples.astype("<i2").tobytes()
    return data if rate == TELEPHONY_RATE else resample(data, rate, TELEPHONY_RATE)


def voiced_span_ms(pcm: bytes, rate: int = TELEPHONY_RATE, threshold_db: float = -45.0,
                   frame_ms: int = 20) -> tuple[int, int]:
    """(start, end) of the part louder than ``threshold_db`` dBFS, in milliseconds."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    n = rate * frame_ms // 1000
    frames = len(samples) // n
    if frames == 0:
        return 0, 0
    rms = np.sqrt(np.mean(samples[: frames * n].reshape(frames, n) ** 2, axis=1) + 1e-9)
    loud = np.nonzero(20 * np.log10(rms / 32768.0) > threshold_db)[0]
    if len(loud) == 0:
        return 0, 0
    return int(loud[0]) * frame_ms, int(loud[-1] + 1) * frame_ms


def write_wav(path: Path, pcm: bytes, rate: int = TELEPHONY_RATE, channels: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
