"""WAV in/out of the simulator: any rate/channels in, 8 kHz PCM16 out; voiced span."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr.sim.wavio import read_wav_8k, voiced_span_ms, write_wav


def tone(rate: int, ms: int, freq: float = 440.0, amp: float = 8000.0) -> np.ndarray:
    t = np.arange(rate * ms // 1000) / rate
    return amp * np.sin(2 * math.pi * freq * t)


def pcm(samples: np.ndarray) -> bytes:
    return np.round(samples).astype("<i2").tobytes()


def peak_hz(data: bytes, rate: int) -> float:
    samples = np.frombuffer(data, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_write_then_read_8k_is_exact(tmp_path: Path) -> None:
    data = pcm(tone(8000, 500))
    path = tmp_path / "deep" / "dir" / "a.wav"
    write_wav(path, data)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 4000
    assert read_wav_8k(path) == data


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
def test_other_rates_are_resampled_to_8k(tmp_path: Path, rate: int) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, pcm(tone(rate, 1000, freq=1000.0)), rate=rate)
    out = read_wav_8k(path)
    assert abs(len(out) // 2 - 8000) <= 2
    assert peak_hz(out, 8000) == pytest.approx(1000.0, abs=5)
    level = np.sqrt(np.mean(np.frombuffer(out, "<i2").astype(float)[200:-200] ** 2))
    assert level == pytest.approx(8000 / math.sqrt(2), rel=0.05)


def test_content_above_4k_is_filtered_out(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, pcm(tone(16000, 500, freq=6000.0)), rate=16000)
    out = np.frombuffer(read_wav_8k(path), "<i2").astype(float)
    assert np.sqrt(np.mean(out[100:-100] ** 2)) < 100  # no alias at 2 kHz


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    left = tone(8000, 200, amp=6000)
    right = np.zeros_like(left)
    stereo = np.stack([left, right], axis=1).reshape(-1)
    path = tmp_path / "s.wav"
    write_wav(path, pcm(stereo), channels=2)
    out = np.frombuffer(read_wav_8k(path), "<i2").astype(float)
    assert len(out) == len(left)
    assert np.max(np.abs(out - left / 2)) <= 1.0


def test_only_16_bit(tmp_path: Path) -> None:
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes(800))
    with pytest.raises(ValueError, match="16-bit"):
        read_wav_8k(path)


def test_voiced_span_finds_the_loud_part() -> None:
    quiet = np.zeros(8000 * 300 // 1000)
    data = pcm(np.concatenate([quiet, tone(8000, 420), quiet]))
    assert voiced_span_ms(data) == (300, 720)


def test_voiced_span_at_16k_and_custom_frame() -> None:
    quiet = np.zeros(16000 * 100 // 1000)
    data = pcm(np.concatenate([quiet, tone(16000, 200), quiet]))
    assert voiced_span_ms(data, rate=16000) == (100, 300)
    assert voiced_span_ms(data, rate=16000, frame_ms=10) == (100, 300)


def test_voiced_span_threshold() -> None:
    soft = pcm(tone(8000, 200, amp=100))  # about -53 dBFS
    assert voiced_span_ms(soft) == (0, 0)
    assert voiced_span_ms(soft, threshold_db=-60) == (0, 200)


@pytest.mark.parametrize("data", [b"", bytes(100), bytes(16000)])
def test_voiced_span_of_nothing(data: bytes) -> None:
    assert voiced_span_ms(data) == (0, 0)
