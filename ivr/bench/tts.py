"""``ivr bench --tts``: worker start-up, per-sentence render time (incl. IPC), and the event
loop's longest stall while 24 sentences render at once (cache off: every one is rendered)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ivr.bench.stats import spread, write_results
from ivr.config import Config
from ivr.core.types import Language
from ivr.tts.base import VoiceConfig
from ivr.tts.cache import PromptCache
from ivr.tts.service import TtsService
from ivr.tts.worker import TtsWorkerPool

SENTENCES = [
    ("sit/cmn", "请问您是张先生吗？"),
    ("sit/cmn", "我们发现您的账户有一笔异常交易，金额为5 6 7 8元。"),
    ("gmw/en-us", "Please say yes or no."),
    ("gmw/en-us", "We noticed an unusual payment on your wallet account today."),
]


async def _loop_stall(service: TtsService) -> tuple[float, float]:
    stalls: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - began - 0.005)

    tick = asyncio.create_task(ticker())
    texts = [(f"Your reference number is {1000 + i}.", Language.EN) for i in range(12)]
    texts += [(f"您的参考编号是{2000 + i}。", Language.ZH) for i in range(12)]
    began = time.perf_counter()
    await asyncio.gather(*(service.synthesize(t, lang) for t, lang in texts))
    elapsed = time.perf_counter() - began
    done.set()
    await tick
    return round(elapsed * 1000, 1), round(max(stalls) * 1000, 1)


async def run_tts_bench(args: argparse.Namespace, config: Config) -> int:
    voices = {Language.ZH: VoiceConfig(config.tts.zh_voice, config.tts.zh_rate),
              Language.EN: VoiceConfig(config.tts.en_voice, config.tts.en_rate)}
    result: dict[str, Any] = {}
    async with TtsWorkerPool(size=config.tts.workers, job_timeout_s=5) as pool:
        await pool.start()
        times = []
        for i in range(200):
            voice, text = SENTENCES[i % len(SENTENCES)]
            began = time.perf_counter()
            await pool.render(text, voice, 170, 1.0)
            times.append((time.perf_counter() - began) * 1000)
        result["worker_startup_ms"] = [round(s * 1000, 1) for s in pool.stats.startup_s]
        result["render_ms"] = spread(times)
        with tempfile.TemporaryDirectory() as tmp:
            service = TtsService(pool, PromptCache(Path(tmp)), voices)
            total, stall = await _loop_stall(service)
        result["concurrent_24_sentences_ms"] = total
        result["max_event_loop_stall_ms"] = stall
    result["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_results(args.out if args.out != "bench-results/bench.json"
                  else "bench-results/tts.json", result)
    return 0
