"""TtsService end to end with real worker processes, real espeak-ng and an on-disk cache."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from conftest import VOICES, rms

from ivr.core.audio import TELEPHONY_RATE, Pcm
from ivr.core.types import Language
from ivr.tts.cache import PromptCache
from ivr.tts.service import TtsService
from ivr.tts.worker import TtsWorkerPool

ZH = "您好，这里是数字钱包客服中心。"
EN = "Hello, this is the wallet service centre."
LONG_EN = (
    "Thank you for calling the wallet service. We noticed a payment of 5678 dollars. "
    "It was made from a new device this morning. If this was you, please say yes. "
    "If it was not you, please say no. You can also press one to talk to an agent. "
    "We will keep your account safe while we check. Thank you for your patience."
)


def _edge_ms(pcm: Pcm) -> tuple[float, float]:
    samples = np.abs(np.frombuffer(pcm.data, dtype="<i2").astype(np.int32))
    loud = np.flatnonzero(samples >= 200)
    return loud[0] * 1000 / pcm.rate, (samples.size - 1 - loud[-1]) * 1000 / pcm.rate


@pytest.mark.parametrize(
    ("text", "lang", "low_ms", "high_ms"),
    [(ZH, Language.ZH, 2000, 9000), (EN, Language.EN, 1500, 5000)],
)
async def test_synthesize_is_telephone_ready(
    service: TtsService, text: str, lang: Language, low_ms: float, high_ms: float
) -> None:
    pcm = await service.synthesize(text, lang)
    assert pcm.rate == TELEPHONY_RATE
    assert low_ms < pcm.duration_ms < high_ms
    assert rms(pcm) > 500
    lead, tail = _edge_ms(pcm)
    assert lead <= 6 and tail <= 6  # trimmed to a few ms of silence


async def test_second_call_is_a_cache_hit(
    service: TtsService, pool: TtsWorkerPool, cache: PromptCache
) -> None:
    first = await service.synthesize(ZH, Language.ZH)
    jobs = pool.stats.jobs
    second = await service.synthesize(ZH, Language.ZH)
    assert second == first
    assert pool.stats.jobs == jobs, "the worker must not be used on a hit"
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)


async def test_cache_survives_a_new_service(pool: TtsWorkerPool, cache: PromptCache) -> None:
    await TtsService(pool, cache, VOICES).synthesize(EN, Language.EN)
    jobs = pool.stats.jobs
    fresh = TtsService(pool, PromptCache(cache.root), VOICES)
    await fresh.synthesize(EN, Language.EN)
    assert pool.stats.jobs == jobs


def test_keys_follow_voice_rate_and_text(pool: TtsWorkerPool, cache: PromptCache) -> None:
    faster = {**VOICES, Language.ZH: VOICES[Language.ZH].__class__("sit/cmn", 200, 1.0)}
    other = {**VOICES, Language.ZH: VOICES[Language.ZH].__class__("sit/yue", 170, 1.0)}
    base = TtsService(pool, cache, VOICES).key_for(ZH, Language.ZH)
    assert base != TtsService(pool, cache, faster).key_for(ZH, Language.ZH)
    assert base != TtsService(pool, cache, other).key_for(ZH, Language.ZH)
    assert base != TtsService(pool, cache, VOICES).key_for(ZH + "请稍等。", Language.ZH)
    # Normalised text is what is keyed: the same spoken digits share one entry.
    service = TtsService(pool, cache, VOICES)
    assert service.key_for("5678", Language.EN) == service.key_for("5 6 7 8", Language.EN)


async def test_stream_yields_first_sentence_before_the_rest_is_rendered(
    service: TtsService, pool: TtsWorkerPool
) -> None:
    chunks: list[Pcm] = []
    jobs_before = pool.stats.jobs
    jobs_at_first = -1
    async for chunk in service.stream(LONG_EN, Language.EN):
        if not chunks:
            jobs_at_first = pool.stats.jobs - jobs_before
        chunks.append(chunk)
    assert len(chunks) == 8
    assert jobs_at_first <= 2, "only the first sentence (and one lookahead) before yielding"
    assert pool.stats.jobs - jobs_before == 8
    assert all(c.rate == TELEPHONY_RATE and rms(c) > 300 for c in chunks)


async def test_closing_a_stream_cancels_pending_sentences(
    service: TtsService, pool: TtsWorkerPool
) -> None:
    jobs_before = pool.stats.jobs
    stream = service.stream(LONG_EN, Language.EN)
    first = await anext(stream)
    await stream.aclose()
    assert rms(first) > 300
    await asyncio.sleep(0.2)
    assert pool.stats.jobs - jobs_before <= 2


async def test_synthesis_work_never_runs_on_the_event_loop(
    service: TtsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering happens in worker processes; conversion and cache I/O in threads (the loop's
    responsiveness under load is measured by ``ivr bench tts``, not asserted here)."""
    loop_thread = threading.get_ident()
    seen: list[tuple[str, int]] = []
    import ivr.tts.service as module

    real_convert = module.to_telephone

    def convert(pcm: Pcm) -> Pcm:
        seen.append(("convert", threading.get_ident()))
        return real_convert(pcm)

    monkeypatch.setattr(module, "to_telephone", convert)
    cache = service._cache
    for name in ("get", "put"):
        real = getattr(cache, name)

        def spy(*args: object, _real: object = real, _name: str = name) -> object:
            seen.append((_name, threading.get_ident()))
            return _real(*args)  # type: ignore[operator]

        monkeypatch.setattr(cache, name, spy)
    texts = [(f"Your reference number is {1000 + i}.", Language.EN) for i in range(6)]
    texts += [(f"您的参考编号是{2000 + i}。", Language.ZH) for i in range(6)]
    results = await asyncio.gather(*(service.synthesize(t, lang) for t, lang in texts))
    assert len(results) == 12 and all(rms(r) > 300 for r in results)
    assert {name for name, _ in seen} == {"convert", "get", "put"}
    assert all(thread != loop_thread for _, thread in seen)


async def test_prerender_counts_rendered_cached_and_failed(
    pool: TtsWorkerPool, cache: PromptCache
) -> None:
    zh_only = TtsService(pool, cache, {Language.ZH: VOICES[Language.ZH]})
    await zh_only.synthesize("请稍等。", Language.ZH)
    report = await zh_only.prerender(
        [
            ("请稍等。", Language.ZH),
            (ZH, Language.ZH),
            (ZH, Language.ZH),  # duplicates count once
            ("请问您是张先生吗？", Language.ZH),
            (EN, Language.EN),  # no English voice configured here
        ]
    )
    assert (report.rendered, report.cached, report.failed) == (2, 1, 1)
    assert "no voice configured for en" in report.errors[0]
    again = await zh_only.prerender([(ZH, Language.ZH)])
    assert (again.rendered, again.cached, again.failed) == (0, 1, 0)
