"""Fixtures for call tests: espeak-ng speech at telephone rate."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.sim.wavio import read_wav_8k

Speech8k = Callable[[str, str], bytes]


@pytest.fixture(scope="session")
def speech8k(tmp_path_factory: pytest.TempPathFactory) -> Speech8k:
    """(espeak voice, text) → PCM16 mono 8 kHz, read through ``read_wav_8k``."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed; it synthesizes the test callers")
    out_dir: Path = tmp_path_factory.mktemp("speech")
    cache: dict[tuple[str, str], bytes] = {}

    def make(voice: str, text: str) -> bytes:
        if (voice, text) not in cache:
            wav = out_dir / f"{len(cache)}.wav"
            subprocess.run([exe, "-v", voice, "-w", str(wav), text], check=True, timeout=30)
            cache[(voice, text)] = read_wav_8k(wav)
        return cache[(voice, text)]

    return make
