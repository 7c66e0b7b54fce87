"""AsyncRecognizer: off-loop decoding, per-stream serialization, batching, drops."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from ivr.asr.async_stream import AsyncRecognizer
from ivr.asr.base import AsrResult
from ivr.asr.vosk_engine import VoskEngine
from ivr.core.audio import ASR_RATE, frame_bytes
from ivr.core.errors import AsrError
from ivr.core.types import Expectation, Language

Synth = Callable[[Language, str], bytes]


class FakeStream:
    """Records calls; optionally blocks or fails; detects overlapping calls."""

    def __init__(self, delay_s: float = 0.0, fail_on: int | None = None) -> None:
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.calls: list[bytes] = []
        self.threads: set[int] = set()
        self.gate = threading.Event()
        self.gate.set()
        self._busy = threading.Lock()
        self.overlapped = False
        self.finished = False

    def accept(self, pcm16: bytes) -> AsrResult | None:
        if not self._busy.acquire(blocking=False):
            self.overlapped = True
            raise AssertionError("overlapping calls on one stream")
        try:
            self.threads.add(threading.get_ident())
            self.gate.wait(5)
            time.sleep(self.delay_s)
            self.calls.append(pcm16)
            if self.fail_on is not None and len(self.calls) == self.fail_on:
                raise AsrError("decoder broke")
            return AsrResult(text=f"{len(b''.join(self.calls))}", is_final=False)
        finally:
            self._busy.release()

    def finish(self) -> AsrResult:
        self.finished = True
        return AsrResult(text=b"".join(self.calls).decode(), is_final=True)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


async def test_order_kept_serialized_and_off_loop(executor: ThreadPoolExecutor) -> None:
    fake = FakeStream(delay_s=0.005)
    partials: list[AsrResult] = []
    rec = AsyncRecognizer(fake, executor, on_partial=partials.append)
    chunks = [f"{i:03d}".encode() for i in range(60)]
    for chunk in chunks:
        assert rec.feed(chunk)
        await asyncio.sleep(0.001)
    final = await rec.finish()
    assert final.text == b"".join(chunks).decode()
    assert not fake.overlapped
    assert threading.get_ident() not in fake.threads
    assert partials and partials[-1].text == str(len(final.text))
    assert rec.latest_partial == partials[-1]
    stats = rec.stats
    assert stats.fed_chunks == 60 and stats.dropped_chunks == 0
    assert stats.decode_calls < 60 + 1  # waiting audio was batched into fewer calls


async def test_backlog_limit_drops_and_counts(executor: ThreadPoolExecutor) -> None:
    fake = FakeStream()
    fake.gate.clear()  # the first decode call blocks
    rec = AsyncRecognizer(fake, executor, max_backlog_bytes=5)
    results = []
    for i in range(12):
        results.append(rec.feed(bytes([i])))
        await asyncio.sleep(0)  # lets the worker take the first chunk
    # One chunk in flight, five bytes waiting, the rest dropped.
    assert results.count(False) == 6
    assert rec.stats.dropped_chunks == 6 and rec.stats.dropped_bytes == 6
    assert rec.stats.backlog_bytes == 5
    fake.gate.set()
    final = await rec.finish()
    assert final.text == bytes(range(6)).decode()


async def test_loop_stays_responsive_during_slow_decode(executor: ThreadPoolExecutor) -> None:
    rec = AsyncRecognizer(FakeStream(delay_s=0.3), executor)
    rec.feed(b"x")
    started = time.perf_counter()
    ticks = 0
    while time.perf_counter() - started < 0.25:
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks > 10
    await rec.finish()


async def test_decode_error_surfaces_in_finish(executor: ThreadPoolExecutor) -> None:
    rec = AsyncRecognizer(FakeStream(fail_on=1), executor)
    rec.feed(b"a")
    await asyncio.sleep(0.05)
    assert not rec.feed(b"b")
    with pytest.raises(AsrError, match="decoder broke"):
        await rec.finish()


async def test_finish_once_and_no_feed_after(executor: ThreadPoolExecutor) -> None:
    fake = FakeStream()
    rec = AsyncRecognizer(fake, executor)
    final = await rec.finish()  # nothing fed: still a final result
    assert final.is_final and fake.finished
    assert not rec.feed(b"late")
    with pytest.raises(AsrError):
        await rec.finish()


async def test_aclose_abandons_without_finishing(executor: ThreadPoolExecutor) -> None:
    fake = FakeStream(delay_s=0.05)
    rec = AsyncRecognizer(fake, executor)
    for i in range(5):
        rec.feed(bytes([i]))
    await rec.aclose()
    assert not fake.finished
    assert not rec.feed(b"x")


async def test_cancelled_finish_propagates(executor: ThreadPoolExecutor) -> None:
    fake = FakeStream()
    fake.gate.clear()
    rec = AsyncRecognizer(fake, executor)
    rec.feed(b"a")
    task = asyncio.create_task(rec.finish())
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    fake.gate.set()
    assert not fake.finished


# --- real engine ------------------------------------------------------------------------------


async def test_two_calls_decode_concurrently_with_real_engine(
    engine: VoskEngine, synth: Synth
) -> None:
    step = frame_bytes(ASR_RATE)

    async def call(lang: Language, text: str, pool: ThreadPoolExecutor) -> tuple[str, int]:
        pcm = synth(lang, text)
        partials: list[AsrResult] = []
        stream = engine.open_stream(lang, Expectation.OPEN, ASR_RATE)
        rec = AsyncRecognizer(stream, pool, on_partial=partials.append)
        for i in range(0, len(pcm), step):
            rec.feed(pcm[i : i + step])
            await asyncio.sleep(0)
        return (await rec.finish()).text, len(partials)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = await asyncio.gather(
            call(Language.ZH, "没有激活 怎么办", pool),
            call(Language.EN, "payment failed", pool),
            call(Language.EN, "bank card stolen", pool),
        )
    texts = [text for text, _ in results]
    assert texts == ["没有激活 怎么办", "payment failed", "bank card stolen"]
    assert all(n > 0 for _, n in results)


def test_libvosk_releases_the_gil(engine: VoskEngine, synth: Synth) -> None:
    """While one thread is inside AcceptWaveform, Python code in another keeps running."""
    pcm = synth(Language.ZH, "没有激活 怎么办 交易记录 在哪里") * 12
    stream = engine.open_stream(Language.ZH, Expectation.OPEN, ASR_RATE)
    done = threading.Event()

    def decode() -> None:
        stream.accept(pcm)
        done.set()

    worker = threading.Thread(target=decode)
    last = started = time.perf_counter()
    worker.start()
    max_gap = 0.0
    spins = 0
    while not done.is_set():
        now = time.perf_counter()
        max_gap = max(max_gap, now - last)
        last = now
        spins += 1
    worker.join()
    busy = time.perf_counter() - started
    print(f"\none AcceptWaveform of {len(pcm) / 2 / ASR_RATE:.0f} s audio: {busy * 1000:.0f} ms;"
          f" main thread max stall {max_gap * 1000:.1f} ms, {spins} spins")
    assert busy > 0.05
    assert max_gap < busy / 2


async def test_backlog_is_bounded_in_bytes_not_chunks(executor: ThreadPoolExecutor) -> None:
    """Big chunks cannot queue more audio than small ones."""
    fake = FakeStream()
    fake.gate.clear()
    rec = AsyncRecognizer(fake, executor, max_backlog_bytes=1000, max_batch_bytes=400)
    assert rec.feed(b"a" * 10)
    await asyncio.sleep(0)  # in flight
    assert rec.feed(b"b" * 600) and rec.feed(b"c" * 400)
    assert not rec.feed(b"d")  # 1000 bytes waiting: full
    assert rec.stats.backlog_bytes == 1000
    fake.gate.set()
    final = await rec.finish()
    assert final.text == "a" * 10 + "b" * 600 + "c" * 400
    assert [len(c) for c in fake.calls][1:] == [600, 400]  # one chunk may exceed a batch
