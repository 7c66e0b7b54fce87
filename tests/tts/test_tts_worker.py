"""The worker pool with real pyttsx3 + espeak-ng processes (no mocks)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import rms

from ivr.core.errors import ErrorCode, TtsError
from ivr.tts.protocol import JobKind
from ivr.tts.worker import TtsWorkerPool

ZH = "您好，这里是数字钱包客服中心。"
EN = "Hello, this is the wallet service centre."


async def test_renders_zh_and_en_at_engine_rate(pool: TtsWorkerPool) -> None:
    zh = await pool.render(ZH, "sit/cmn", 170, 1.0)
    en = await pool.render(EN, "gmw/en-us", 170, 1.0)
    for pcm in (zh, en):
        assert pcm.rate == 22050
        assert rms(pcm) > 500
    assert 2000 < zh.duration_ms < 9000
    assert 1500 < en.duration_ms < 5000


async def test_settings_are_applied_on_every_job_of_a_reused_engine(pool: TtsWorkerPool) -> None:
    """Naive pyttsx3 reuse renders most jobs with the previous job's rate or volume."""
    durations: dict[tuple[str, int], list[float]] = {}
    peaks: dict[float, list[float]] = {}
    for i in range(48):
        voice, text = (("sit/cmn", ZH), ("gmw/en-us", EN))[i % 2]
        rate = (130, 200, 260)[(i // 2) % 3]
        volume = (1.0, 0.4)[(i // 6) % 2]
        pcm = await pool.render(text, voice, rate, volume)
        durations.setdefault((voice, rate), []).append(pcm.duration_ms)
        peaks.setdefault(volume, []).append(rms(pcm))
    for (voice, _rate), values in durations.items():
        assert max(values) - min(values) < 0.03 * min(values), (voice, values)
    for voice in ("sit/cmn", "gmw/en-us"):
        assert durations[(voice, 130)][0] > durations[(voice, 200)][0] > durations[(voice, 260)][0]
    assert max(peaks[0.4]) < 0.6 * min(peaks[1.0])


async def test_empty_text_renders_nothing(pool: TtsWorkerPool) -> None:
    assert (await pool.render("  ", "gmw/en-us", 170, 1.0)).data == b""


async def test_hung_worker_is_killed_restarted_and_next_job_works() -> None:
    async with TtsWorkerPool(size=1, job_timeout_s=0.5) as pool:
        await pool.start()
        with pytest.raises(TtsError) as info:
            await asyncio.wait_for(pool.inject_fault(JobKind.HANG, seconds=30), 20)  # hang guard
        assert info.value.code is ErrorCode.TTS_TIMEOUT
        assert pool.stats.timeouts == 1 and pool.stats.restarts == 1
        pcm = await pool.render(EN, "gmw/en-us", 170, 1.0)
        assert rms(pcm) > 500


async def test_dead_worker_is_restarted() -> None:
    async with TtsWorkerPool(size=1, job_timeout_s=5) as pool:
        await pool.start()
        with pytest.raises(TtsError) as info:
            await pool.inject_fault(JobKind.CRASH)
        assert info.value.code is ErrorCode.TTS_FAILED
        assert pool.stats.restarts == 1
        assert rms(await pool.render(ZH, "sit/cmn", 170, 1.0)) > 500


async def test_unknown_voice_fails_start_with_hints() -> None:
    pool = TtsWorkerPool(size=1)
    with pytest.raises(TtsError) as info:
        await pool.start(["sit/cmn", "cmn", "gmw/en-uss"])
    message = str(info.value)
    assert "'cmn'" in message and "sit/cmn" in message
    assert "'gmw/en-uss'" in message and "gmw/en-us" in message
    assert "'sit/cmn' is not" not in message
    with pytest.raises(TtsError):
        await pool.render(EN, "gmw/en-us", 170, 1.0)  # closed after a failed start


async def test_real_voice_ids_are_listed(pool: TtsWorkerPool) -> None:
    ids = {voice.id for voice in pool.voices}
    assert {"sit/cmn", "gmw/en-us"} <= ids


async def test_cancelled_caller_does_not_leak_the_worker() -> None:
    async with TtsWorkerPool(size=1, job_timeout_s=5) as pool:
        await pool.start()
        task = asyncio.create_task(pool.inject_fault(JobKind.HANG, seconds=0.3))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert rms(await pool.render(EN, "gmw/en-us", 170, 1.0)) > 500
