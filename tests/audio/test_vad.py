"""VAD on real human speech (16 kHz and the 8 kHz μ-law telephone path) vs silence and noise."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.audio.resample import resample
from ivr.audio.vad import EnergyVad, Vad, WebRtcVad, frame_dbfs
from ivr.core.audio import frame_bytes


def frames(pcm: bytes, rate: int, ms: int = 20) -> list[bytes]:
    n = frame_bytes(rate, ms)
    return [pcm[i : i + n] for i in range(0, len(pcm) - n + 1, n)]


def speech_ratio(vad: Vad, pcm: bytes, ms: int = 20) -> float:
    fs = frames(pcm, vad.rate, ms)
    return sum(vad.is_speech(f) for f in fs) / len(fs)


def telephone(pcm16k: bytes) -> bytes:
    return ulaw_to_pcm16(pcm16_to_ulaw(resample(pcm16k, 16000, 8000)))


def white_noise(rate: int, seconds: float, dbfs: float, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    amp = 32768 * 10 ** (dbfs / 20)
    noise = rng.normal(0, amp, int(rate * seconds)).clip(-32768, 32767)
    return noise.astype("<i2").tobytes()


def test_webrtc_detects_real_speech(real_speech: dict[str, bytes]) -> None:
    for name, pcm in real_speech.items():
        wide = speech_ratio(WebRtcVad(16000, 2), pcm)
        narrow = speech_ratio(WebRtcVad(8000, 2), telephone(pcm))
        # Measured 0.54-0.95 (en01 is a digit string with long pauses).
        assert wide > 0.5, name
        assert narrow > 0.5, name


@pytest.mark.parametrize("ms", [10, 20, 30])
def test_webrtc_frame_sizes(real_speech: dict[str, bytes], ms: int) -> None:
    assert speech_ratio(WebRtcVad(16000, 2), real_speech["en07"], ms) > 0.8


@pytest.mark.parametrize("rate", [8000, 16000])
def test_webrtc_rejects_silence_and_quiet_noise(rate: int) -> None:
    assert speech_ratio(WebRtcVad(rate, 2), bytes(frame_bytes(rate, 1000))) == 0.0
    for level in (-60.0, -45.0):
        assert speech_ratio(WebRtcVad(rate, 2), white_noise(rate, 3.0, level)) < 0.05


@pytest.mark.parametrize("rate", [8000, 16000])
def test_webrtc_without_hangover_drops_only_trailing_frames(real_speech: dict[str, bytes],
                                                            rate: int) -> None:
    """Without the hangover a frame is speech only when the VAD's models say so: the same
    frames as the binding's decision minus short runs right after speech."""
    for name, pcm in real_speech.items():
        audio = pcm if rate == 16000 else telephone(pcm)
        with_hangover, raw = WebRtcVad(rate, 2), WebRtcVad(rate, 2, hangover=False)
        assert with_hangover.hangover and not raw.hangover
        flags = [(with_hangover.is_speech(f), raw.is_speech(f)) for f in frames(audio, rate)]
        assert all(h for h, r in flags if r), name  # raw speech is always speech
        dropped = [i for i, (h, r) in enumerate(flags) if h and not r]
        assert dropped, name
        for i in dropped:  # each dropped frame follows raw speech by at most 5 frames
            assert any(flags[j][1] for j in range(max(0, i - 5), i)), (name, i)


def test_energy_vad_on_real_speech_and_noise(real_speech: dict[str, bytes]) -> None:
    for name, pcm in real_speech.items():
        assert speech_ratio(EnergyVad(16000), pcm) > 0.45, name
    assert speech_ratio(EnergyVad(16000), bytes(frame_bytes(16000, 1000))) == 0.0
    assert speech_ratio(EnergyVad(16000), white_noise(16000, 3.0, -60.0)) == 0.0
    # Steady noise well above the floor is absorbed once the floor has risen to it.
    vad = EnergyVad(16000)
    speech_ratio(vad, white_noise(16000, 4.0, -35.0))
    assert speech_ratio(vad, white_noise(16000, 2.0, -35.0, seed=4)) == 0.0


def test_frame_validation() -> None:
    with pytest.raises(ValueError):
        WebRtcVad(16000).is_speech(b"\x00" * 100)
    with pytest.raises(ValueError):
        EnergyVad(8000).is_speech(b"\x00" * 100)
    with pytest.raises(ValueError):
        WebRtcVad(11025)
    with pytest.raises(ValueError):
        WebRtcVad(8000, aggressiveness=4)


def test_frame_dbfs() -> None:
    assert frame_dbfs(bytes(320)) == float("-inf")
    full = np.full(160, 32767, dtype="<i2").tobytes()
    assert frame_dbfs(full) == pytest.approx(0.0, abs=0.01)
