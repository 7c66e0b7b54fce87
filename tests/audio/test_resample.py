from __future__ import annotations

import numpy as np
import pytest

from ivr.audio.resample import FirUpsampler, StreamResampler, line_to_recognizer, resample


def tone(rate: int, freq: float, seconds: float, amp: float = 8000.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def dominant_freq(pcm: bytes, rate: int) -> float:
    x = samples(pcm)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * rate / x.size)


def rms(pcm: bytes) -> float:
    x = samples(pcm)
    return float(np.sqrt(np.mean(x * x)))


@pytest.mark.parametrize(
    ("in_rate", "out_rate", "chunk_ms"),
    [(8000, 16000, 20), (16000, 8000, 20), (22050, 8000, 20), (8000, 16000, 7)],
)
def test_streaming_equals_one_shot(in_rate: int, out_rate: int, chunk_ms: int) -> None:
    pcm = tone(in_rate, 440, 1.5) + tone(in_rate, 1000, 0.5)
    step = in_rate * chunk_ms // 1000 * 2
    stream = StreamResampler(in_rate, out_rate)
    out = b"".join(stream.process(pcm[i : i + step]) for i in range(0, len(pcm), step))
    out += stream.flush()
    ref = resample(pcm, in_rate, out_rate)
    assert abs(len(out) - len(ref)) <= 4
    n = min(len(out), len(ref)) // 2
    diff = np.abs(samples(out)[:n] - samples(ref)[:n])
    assert diff.max() <= 4


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (16000, 8000), (22050, 8000)])
def test_output_length_matches_ratio(in_rate: int, out_rate: int) -> None:
    pcm = tone(in_rate, 300, 2.0)
    out = resample(pcm, in_rate, out_rate)
    expected = len(pcm) // 2 * out_rate / in_rate
    assert abs(len(out) // 2 - expected) <= 2
    stream = StreamResampler(in_rate, out_rate)
    streamed = stream.process(pcm) + stream.flush()
    assert abs(len(streamed) // 2 - expected) <= 2


def test_round_trip_keeps_frequency_and_energy() -> None:
    pcm = tone(8000, 697, 1.0)
    up = StreamResampler(8000, 16000)
    down = StreamResampler(16000, 8000)
    step = 320
    wide = b"".join(up.process(pcm[i : i + step]) for i in range(0, len(pcm), step)) + up.flush()
    assert dominant_freq(wide, 16000) == pytest.approx(697, abs=3)
    back = down.process(wide) + down.flush()
    assert dominant_freq(back, 8000) == pytest.approx(697, abs=3)
    mid = slice(800, 7200)  # ignore filter edges
    ratio = rms(back[mid.start * 2 : mid.stop * 2]) / rms(pcm[mid.start * 2 : mid.stop * 2])
    assert ratio == pytest.approx(1.0, abs=0.02)


def test_downsampling_removes_content_above_new_nyquist() -> None:
    pcm = tone(16000, 6000, 1.0)
    assert rms(resample(pcm, 16000, 8000)) < rms(pcm) * 0.01


def test_same_rate_passes_through_and_flush_is_idempotent() -> None:
    pcm = tone(8000, 440, 0.1)
    stream = StreamResampler(8000, 8000)
    assert stream.process(pcm) == pcm
    assert stream.flush() == b""
    assert resample(pcm, 8000, 8000) == pcm
    other = StreamResampler(8000, 16000)
    other.process(pcm)
    assert other.flush()
    assert other.flush() == b""
    with pytest.raises(RuntimeError):
        other.process(pcm)


def test_invalid_input_rejected() -> None:
    with pytest.raises(ValueError):
        StreamResampler(0, 8000)
    with pytest.raises(ValueError):
        StreamResampler(8000, 16000).process(b"\x00")
    with pytest.raises(ValueError):
        resample(b"\x00\x00", 8000, -1)


def _fir_through(pcm: bytes, chunk_bytes: int = 320) -> bytes:
    up = FirUpsampler(8000, 16000)
    return b"".join(up.process(pcm[i : i + chunk_bytes]) for i in range(0, len(pcm), chunk_bytes))


def test_fir_upsampler_answers_every_frame_at_once() -> None:
    """The recognizer hears each 20 ms line frame as it comes: 40 ms of 16 kHz audio out for
    every 20 ms in, from the first frame (soxr's HQ stream holds back its first 120 ms)."""
    up, hq = FirUpsampler(8000, 16000), StreamResampler(8000, 16000)
    frames = [tone(8000, 700, 0.02) for _ in range(5)]
    assert [len(up.process(f)) for f in frames] == [640] * 5
    assert sum(len(hq.process(f)) for f in frames) < 640 * 5
    assert up.delay_ms < 3


def test_fir_upsampler_keeps_the_telephone_band_and_rejects_images() -> None:
    for freq, min_db in ((300, -0.3), (1000, -0.3), (3000, -0.5), (3400, -1.0)):
        out = _fir_through(tone(8000, freq, 1.0))[4000:]  # past the start
        assert abs(dominant_freq(out, 16000) - freq) < 5
        x = samples(out)
        spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
        bins = np.fft.rfftfreq(x.size, 1 / 16000)
        wanted = spectrum[np.argmin(abs(bins - freq))]
        image = spectrum[np.argmin(abs(bins - (8000 - freq)))]
        assert 20 * np.log10(image / wanted) < -75, freq
        gain_db = 20 * np.log10(np.max(np.abs(x)) / 8000)
        assert min_db < gain_db < 0.2, (freq, gain_db)


def test_fir_upsampler_streaming_equals_one_shot_and_flushes_its_tail() -> None:
    pcm = (np.random.default_rng(0).normal(0, 3000, 8000)).astype("<i2").tobytes()
    one = FirUpsampler(8000, 16000)
    whole = one.process(pcm)
    assert _fir_through(pcm, 320) == whole == _fir_through(pcm, 14)
    tail = FirUpsampler(8000, 16000)
    tail.process(pcm)
    assert len(tail.flush()) > 0 and tail.flush() == b""
    with pytest.raises(RuntimeError):
        tail.process(pcm)


def test_line_to_recognizer_picks_the_fir_only_for_integer_upsampling() -> None:
    assert isinstance(line_to_recognizer(8000, 16000), FirUpsampler)
    assert isinstance(line_to_recognizer(16000, 16000), StreamResampler)
    assert isinstance(line_to_recognizer(22050, 16000), StreamResampler)
    with pytest.raises(ValueError):
        FirUpsampler(22050, 16000)
