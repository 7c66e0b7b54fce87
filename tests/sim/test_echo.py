"""The simulator's echo path: delay, level and response, streamed frame by frame."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.sim.echo import EchoPath, EchoSpec, impulse_response


def _frames(x: np.ndarray, n: int) -> list[bytes]:
    return [x[i : i + n].astype("<i2").tobytes() for i in range(0, len(x), n)]


def test_streamed_echo_is_the_delayed_scaled_convolution() -> None:
    spec = EchoSpec(level_db=-20, delay_ms=60, response_ms=30)
    rng = np.random.default_rng(0)
    bot = np.round(rng.normal(0, 3000, 8000)).clip(-32768, 32767)
    path = EchoPath(spec, 8000)
    streamed = np.concatenate([path.feed(f, 160) for f in _frames(bot, 160)])
    h = impulse_response(spec, 8000) * 10 ** (-20 / 20)
    expected = np.concatenate([np.zeros(480), np.convolve(bot, h)])[: len(bot)]
    assert np.allclose(streamed, expected)


def test_echo_level_is_the_configured_return_loss() -> None:
    rng = np.random.default_rng(1)
    bot = np.round(rng.normal(0, 3000, 80000)).clip(-32768, 32767)
    path = EchoPath(EchoSpec(level_db=-25, delay_ms=0), 8000)
    echo = np.concatenate([path.feed(f, 160) for f in _frames(bot, 160)])
    loss = 10 * np.log10(np.mean(echo**2) / np.mean(bot**2))
    assert loss == pytest.approx(-25.0, abs=0.3)


def test_short_or_missing_bot_audio_is_silence_and_mixing_clips() -> None:
    path = EchoPath(EchoSpec(level_db=0, delay_ms=0, response_ms=1), 8000)
    assert not path.feed(b"", 160).any()
    loud = np.full(160, 30000).astype("<i2").tobytes()
    mixed = np.frombuffer(path.add_to(loud, loud), dtype="<i2")
    assert mixed.max() == 32767


@pytest.mark.parametrize("kwargs", [{"level_db": 3.0}, {"delay_ms": -1}, {"response_ms": 0}])
def test_bad_spec_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="echo"):
        EchoSpec(**kwargs)  # type: ignore[arg-type]
