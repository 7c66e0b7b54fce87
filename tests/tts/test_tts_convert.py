import numpy as np

from ivr.core.audio import TELEPHONY_RATE, Pcm
from ivr.tts.convert import to_telephone, trim_silence


def _tone(rate: int, ms: int, pad_ms: int) -> Pcm:
    t = np.arange(rate * ms // 1000) / rate
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    pad = np.zeros(rate * pad_ms // 1000, dtype="<i2")
    return Pcm(np.concatenate([pad, tone, pad]).tobytes(), rate)


def test_trim_keeps_a_few_ms() -> None:
    out = trim_silence(_tone(8000, 500, 300))
    assert 500 <= out.duration_ms <= 512


def test_all_silence_trims_to_empty() -> None:
    assert trim_silence(Pcm(bytes(1600), 8000)).data == b""


def test_to_telephone_resamples_and_trims() -> None:
    out = to_telephone(_tone(22050, 1000, 200))
    assert out.rate == TELEPHONY_RATE
    assert 995 <= out.duration_ms <= 1015
