"""The echo seam: the played-audio reference lines up with caller frames; defaults pass through."""

from __future__ import annotations

import struct

from ivr.audio.echo import OpenGate, PassThroughCanceller
from ivr.audio.reference import PlayedAudio

RATE = 8000
FRAME = 320  # 20 ms of PCM16 at 8 kHz


def tone(value: int, nbytes: int = FRAME) -> bytes:
    return struct.pack("<h", value) * (nbytes // 2)


def test_reference_is_what_was_sent_during_the_frame() -> None:
    ref = PlayedAudio(RATE)
    ref.played(tone(100), 1.000)
    ref.played(tone(200), 1.020)
    assert ref.reference(FRAME, 1.020) == tone(100)
    assert ref.reference(FRAME, 1.040) == tone(200)


def test_silence_where_nothing_was_played() -> None:
    ref = PlayedAudio(RATE)
    ref.played(tone(100), 1.000)
    assert ref.reference(FRAME, 0.500) == bytes(FRAME)
    half = ref.reference(FRAME, 1.030)  # 10 ms of the frame, then nothing
    assert half == tone(100, FRAME // 2) + bytes(FRAME // 2)


def test_cleared_audio_is_not_a_reference() -> None:
    ref = PlayedAudio(RATE)
    for i in range(5):
        ref.played(tone(100 + i), 1.0 + i * 0.02)
    ref.clear_after(1.04)
    assert ref.reference(FRAME, 1.04) == tone(101)
    assert ref.reference(FRAME, 1.06) == bytes(FRAME)
    ref.played(tone(7), 1.045)  # new audio after the clear starts where it was sent
    assert ref.reference(FRAME, 1.065) == tone(7)


def test_old_audio_is_forgotten() -> None:
    ref = PlayedAudio(RATE, keep_s=0.1)
    for i in range(100):
        ref.played(tone(1), i * 0.02)
    ref.reference(FRAME, 2.0)
    assert len(ref._chunks) <= 8


def test_defaults_change_nothing() -> None:
    frame = tone(1234)
    assert PassThroughCanceller(RATE).process(frame, tone(5)) == frame
    assert OpenGate(RATE).is_caller(frame, frame, tone(5)) is True
