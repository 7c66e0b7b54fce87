from __future__ import annotations

import warnings

import numpy as np
import pytest

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def test_decode_matches_audioop_on_all_codes() -> None:
    codes = bytes(range(256))
    assert ulaw_to_pcm16(codes) == audioop.ulaw2lin(codes, 2)


def test_encode_matches_audioop_on_every_sample_value() -> None:
    every = np.arange(-32768, 32768, dtype="<i2").tobytes()
    assert pcm16_to_ulaw(every) == audioop.lin2ulaw(every, 2)


def test_encode_matches_audioop_on_random_pcm() -> None:
    rng = np.random.default_rng(7)
    pcm = rng.integers(-32768, 32768, 48000, dtype=np.int16).astype("<i2").tobytes()
    assert pcm16_to_ulaw(pcm) == audioop.lin2ulaw(pcm, 2)
    assert ulaw_to_pcm16(pcm16_to_ulaw(pcm)) == audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)


def test_round_trip_error_is_small_relative_to_level() -> None:
    t = np.arange(8000) / 8000
    tone = (10000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    back = np.frombuffer(ulaw_to_pcm16(pcm16_to_ulaw(tone.tobytes())), dtype="<i2")
    err = np.abs(back.astype(int) - tone.astype(int))
    assert err.max() <= np.abs(tone.astype(int)).max() / 16 + 8


def test_lengths_and_silence() -> None:
    assert pcm16_to_ulaw(b"") == b""
    assert ulaw_to_pcm16(b"") == b""
    assert pcm16_to_ulaw(b"\x00\x00" * 160) == b"\xff" * 160
    assert len(ulaw_to_pcm16(b"\xff" * 160)) == 320


def test_odd_pcm_length_rejected() -> None:
    with pytest.raises(ValueError):
        pcm16_to_ulaw(b"\x00\x00\x00")
