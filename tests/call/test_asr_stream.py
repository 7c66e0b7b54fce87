"""The recognizer stream of one utterance: finishing it right after its recognizer opened,
before the opening's done-callback has run, still gives the result."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from ivr.asr.base import AsrResult, RecognizerStream
from ivr.call.asr_stream import CallerAsr
from ivr.core.types import Expectation, Language
from ivr.metrics import Metrics


class InlineExecutor(Executor):
    """Runs the job inside ``submit``: the recognizer is open before the constructor returns,
    so its asyncio future completes on the next loop step and its callbacks one step later."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(*args, **kwargs))
        return done


class Echoing:
    def __init__(self) -> None:
        self.fed = b""

    def accept(self, pcm16: bytes) -> AsrResult | None:
        self.fed += pcm16
        return None

    def finish(self) -> AsrResult:
        return AsrResult(f"{len(self.fed)} bytes", True)


class Engine:
    def open_stream(self, lang: Language, expect: Expectation,
                    sample_rate: int) -> RecognizerStream:
        return Echoing()


async def test_finish_between_opened_and_its_callback_gives_the_result() -> None:
    asr = CallerAsr(Engine(), InlineExecutor(), Language.ZH, Expectation.YES_NO, Metrics())
    asr.feed(b"\0" * 640)  # held: the recognizer is not attached yet
    await asyncio.sleep(0)  # the future completes now; its done-callback is queued after us
    result = await asr.finish()
    assert result.text == "640 bytes"
