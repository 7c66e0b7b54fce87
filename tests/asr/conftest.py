"""Fixtures for ASR tests: tiny Vosk models and espeak-ng callers over a telephone path."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.asr.vosk_engine import VoskEngine
from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.audio.resample import StreamResampler, resample
from ivr.core.audio import ASR_RATE, TELEPHONY_RATE, frame_bytes
from ivr.core.types import Language

MODELS_DIR = Path(
    os.environ.get(
        "IVR_TEST_MODELS_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "models"
    )
)
VOICES = {Language.ZH: "cmn", Language.EN: "en-us"}

Synth = Callable[[Language, str], bytes]


def model_dirs() -> dict[Language, Path]:
    dirs = {lang: MODELS_DIR / f"tiny-{lang.value}" for lang in Language}
    missing = [str(p) for p in dirs.values() if not p.is_dir()]
    if missing:
        pytest.skip(f"tiny Vosk test models not found: {', '.join(missing)}")
    return dirs


@pytest.fixture(scope="session")
def engine() -> VoskEngine:
    """Both tiny models, loaded once for the whole session."""
    return VoskEngine(model_dirs())


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Text → 16 kHz PCM16 as the recognizer would get it from a phone call.

    espeak-ng WAV (22.05 kHz) → 8 kHz → μ-law → PCM16 → streamed 8 → 16 kHz resampler.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed; it synthesizes the test callers")
    out_dir = tmp_path_factory.mktemp("espeak")
    cache: dict[tuple[Language, str], bytes] = {}

    def make(lang: Language, text: str) -> bytes:
        key = (lang, text)
        if key not in cache:
            wav_path = out_dir / f"{len(cache)}.wav"
            subprocess.run(
                [exe, "-v", VOICES[lang], "-w", str(wav_path), text], check=True, timeout=30
            )
            with wave.open(str(wav_path), "rb") as wav:
                pcm, rate = wav.readframes(wav.getnframes()), wav.getframerate()
            line = ulaw_to_pcm16(pcm16_to_ulaw(resample(pcm, rate, TELEPHONY_RATE)))
            up = StreamResampler(TELEPHONY_RATE, ASR_RATE)
            step = frame_bytes(TELEPHONY_RATE)
            wide = [up.process(line[i : i + step]) for i in range(0, len(line), step)]
            cache[key] = b"".join(wide) + up.flush()
        return cache[key]

    return make
