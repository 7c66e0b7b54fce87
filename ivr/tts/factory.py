"""Builds the TTS service from settings (the app and set-up tasks call this)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivr.core.types import Language
from ivr.tts.base import VoiceConfig
from ivr.tts.cache import PromptCache
from ivr.tts.service import TtsService
from ivr.tts.worker import TtsWorkerPool

if TYPE_CHECKING:
    from ivr.config import Config


def build_tts(config: Config) -> TtsService:
    """Not started: call ``await tts.start()`` (spawns workers, checks voices), then ``close()``."""
    tts = config.tts
    pool = TtsWorkerPool(tts.workers, tts.job_timeout_s)
    voices = {
        Language.ZH: VoiceConfig(tts.zh_voice, tts.zh_rate, tts.volume),
        Language.EN: VoiceConfig(tts.en_voice, tts.en_rate, tts.volume),
    }
    return TtsService(pool, PromptCache(tts.cache_dir), voices)
