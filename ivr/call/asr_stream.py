"""The recognizer stream for one caller utterance: created off the event loop (grammar
compilation can be slow on large models), fed without blocking, finished or cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Executor

from ivr.asr.async_stream import AsyncRecognizer
from ivr.asr.base import AsrEngine, AsrResult, RecognizerStream
from ivr.core.audio import ASR_RATE
from ivr.core.errors import AsrError
from ivr.core.types import Expectation, Language
from ivr.metrics import Metrics, TimedStream

MAX_EARLY_BYTES = 4 * 32_000  # audio held while the recognizer opens (4 s at 16 kHz)


class CallerAsr:
    def __init__(self, engine: AsrEngine, executor: Executor, lang: Language,
                 expect: Expectation, metrics: Metrics,
                 on_partial: Callable[[str], None] | None = None) -> None:
        self._executor = executor
        self._partial_cb = on_partial
        self._early: list[bytes] = []
        self._early_bytes = 0
        self._rec: AsyncRecognizer | None = None
        self._partial = ""
        self._error: BaseException | None = None
        loop = asyncio.get_running_loop()

        def open_timed() -> RecognizerStream:
            return TimedStream(engine.open_stream(lang, expect, ASR_RATE), metrics, ASR_RATE)

        self._opening = loop.run_in_executor(executor, open_timed)
        self._opening.add_done_callback(self._opened)

    def _opened(self, fut: asyncio.Future[RecognizerStream]) -> None:
        if fut.cancelled() or self._rec is not None or self._error is not None:
            return
        if fut.exception() is not None:
            self._error = fut.exception()
            return
        self._rec = AsyncRecognizer(fut.result(), self._executor, on_partial=self._on_partial)
        for chunk in self._early:
            self._rec.feed(chunk)
        self._early.clear()
        self._early_bytes = 0

    def _on_partial(self, result: AsrResult) -> None:
        changed = result.text != self._partial
        self._partial = result.text
        if changed and self._partial_cb is not None:
            self._partial_cb(result.text)

    @property
    def partial(self) -> str:
        return self._partial

    def feed(self, pcm16: bytes) -> None:
        if self._rec is not None:
            self._rec.feed(pcm16)
        elif self._early_bytes + len(pcm16) <= MAX_EARLY_BYTES:
            self._early.append(pcm16)
            self._early_bytes += len(pcm16)

    async def finish(self) -> AsrResult:
        try:
            await self._opening
        except Exception as exc:
            raise AsrError(f"could not open a recognizer: {exc}") from exc
        if self._rec is None:  # opened, but its done-callback has not run yet
            self._opened(self._opening)
        if self._rec is None:
            raise AsrError("recognizer not available")
        return await self._rec.finish()

    async def cancel(self) -> None:
        if not self._opening.done():
            self._opening.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(self._opening, return_exceptions=True)
        if self._rec is not None:
            await self._rec.aclose()
