"""The synthesizer the call layer uses: prompt cache first, worker pool on a miss."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable, Mapping
from dataclasses import dataclass, field

from ivr.core.audio import Pcm
from ivr.core.errors import ErrorCode, TtsError
from ivr.core.types import Language
from ivr.tts.base import Renderer, VoiceConfig
from ivr.tts.cache import PromptCache, cache_key
from ivr.tts.convert import to_telephone
from ivr.tts.text import normalize_for_speech, split_sentences


@dataclass(frozen=True, slots=True)
class PrerenderReport:
    rendered: int = 0
    cached: int = 0
    failed: int = 0
    errors: tuple[str, ...] = field(default=())


class TtsService:
    """Implements ``Synthesizer``; output is PCM16 mono at 8 kHz with silence trimmed."""

    def __init__(
        self,
        pool: Renderer,
        cache: PromptCache,
        voices: Mapping[Language, VoiceConfig],
        *,
        stream_lookahead: int = 2,
    ) -> None:
        self._pool = pool
        self._cache = cache
        self._voices = dict(voices)
        self._lookahead = max(1, stream_lookahead)

    async def start(self) -> None:
        """Start the renderer and check that every configured voice is installed."""
        await self._pool.start([voice.voice_id for voice in self._voices.values()])

    async def close(self) -> None:
        await self._pool.close()

    def key_for(self, text: str, lang: Language) -> str:
        """The cache key ``synthesize`` uses for this text (exposed for tools and tests)."""
        voice = self._voice(lang)
        return self._key(voice, normalize_for_speech(text.strip(), lang))

    def _key(self, voice: VoiceConfig, spoken: str) -> str:
        engine = self._pool.engine_name
        return cache_key(engine, voice.voice_id, voice.rate_wpm, voice.volume, spoken)

    async def synthesize(self, text: str, lang: Language) -> Pcm:
        pcm, _ = await self._synthesize(text, lang)
        return pcm

    async def _synthesize(self, text: str, lang: Language) -> tuple[Pcm, bool]:
        """Returns the audio and whether it came from the cache."""
        voice = self._voice(lang)
        spoken = normalize_for_speech(text.strip(), lang)
        key = self._key(voice, spoken)
        cached = await asyncio.to_thread(self._cache.get, key)
        if cached is not None:
            return cached, True
        raw = await self._pool.render(spoken, voice.voice_id, voice.rate_wpm, voice.volume)
        pcm = await asyncio.to_thread(to_telephone, raw)
        await asyncio.to_thread(self._cache.put, key, pcm)
        return pcm, False

    async def stream(self, text: str, lang: Language) -> AsyncGenerator[Pcm, None]:
        """Yield one chunk per sentence, in order; later sentences render while earlier play.

        At most ``stream_lookahead`` sentences are in flight, so an interrupted (closed)
        stream does not tie up the pool; closing it cancels what is still pending.
        """
        sentences = split_sentences(text, lang)
        pending: list[asyncio.Task[Pcm]] = []
        try:
            for index in range(len(sentences)):
                while len(pending) < self._lookahead and index + len(pending) < len(sentences):
                    sentence = sentences[index + len(pending)]
                    pending.append(asyncio.create_task(self.synthesize(sentence, lang)))
                yield await pending.pop(0)
        finally:
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, TtsError):
                    await task

    async def prerender(self, items: Iterable[tuple[str, Language]]) -> PrerenderReport:
        """Fill the cache for set-up; counts what was rendered, already cached or failed."""
        unique = list(dict.fromkeys(items))
        results = await asyncio.gather(
            *(self._synthesize(text, lang) for text, lang in unique), return_exceptions=True
        )
        rendered = cached = 0
        errors: list[str] = []
        for (text, _), result in zip(unique, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                errors.append(f"{text[:40]!r}: {result}")
            elif result[1]:
                cached += 1
            else:
                rendered += 1
        return PrerenderReport(rendered, cached, len(errors), tuple(errors))

    def _voice(self, lang: Language) -> VoiceConfig:
        try:
            return self._voices[lang]
        except KeyError:
            raise TtsError(
                f"no voice configured for {lang}", code=ErrorCode.CONFIG_INVALID
            ) from None
