"""Fixtures for audio tests: real human speech clips from the shared folder."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import pytest

REAL_SPEECH_DIR = Path(
    os.environ.get(
        "IVR_REAL_SPEECH_DIR",
        Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "real-speech",
    )
)


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return wav.readframes(wav.getnframes()), wav.getframerate()


@pytest.fixture(scope="session")
def real_speech() -> dict[str, bytes]:
    """Clip name (e.g. ``zh01``) → 16 kHz PCM16 of real human speech."""
    clips = sorted(REAL_SPEECH_DIR.glob("*.wav"))
    if not clips:
        pytest.skip(f"no real speech clips in {REAL_SPEECH_DIR}")
    out: dict[str, bytes] = {}
    for path in clips:
        pcm, rate = read_wav(path)
        assert rate == 16000
        out[path.name.split("_")[0]] = pcm
    return out


@pytest.fixture(scope="session")
def bot_prompts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Language → an espeak-ng prompt (8 kHz float samples) that plays the bot."""
    from tests.audio.echo_signals import BOT_TEXTS, synth

    out = tmp_path_factory.mktemp("bot-prompts")
    return {lang: synth(text, voice, out / f"{lang}.wav")
            for lang, (voice, text) in BOT_TEXTS.items()}


@pytest.fixture(scope="session")
def callers_8k(real_speech: dict[str, bytes]) -> dict[str, object]:
    """Clip name → real human speech at 8 kHz, float samples at its own level."""
    import numpy as np

    from ivr.audio.resample import resample

    return {name: np.frombuffer(resample(pcm, 16000, 8000), dtype="<i2").astype(np.float64)
            for name, pcm in real_speech.items()}
