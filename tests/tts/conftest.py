"""Fixtures for the TTS tests: real pyttsx3 + espeak-ng in real worker processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from ivr.core.audio import Pcm
from ivr.core.types import Language
from ivr.tts.base import VoiceConfig
from ivr.tts.cache import PromptCache
from ivr.tts.service import TtsService
from ivr.tts.worker import TtsWorkerPool

VOICES = {
    Language.ZH: VoiceConfig("sit/cmn", 170, 1.0),
    Language.EN: VoiceConfig("gmw/en-us", 170, 1.0),
}


def rms(pcm: Pcm) -> float:
    samples = np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


@pytest.fixture
async def pool() -> AsyncIterator[TtsWorkerPool]:
    pool = TtsWorkerPool(size=2, job_timeout_s=5.0)
    await pool.start([v.voice_id for v in VOICES.values()])
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def cache(tmp_path: Path) -> PromptCache:
    return PromptCache(tmp_path / "prompts")


@pytest.fixture
def service(pool: TtsWorkerPool, cache: PromptCache) -> TtsService:
    return TtsService(pool, cache, VOICES)
