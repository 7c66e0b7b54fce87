"""Async wrapper: decode a ``RecognizerStream`` on a shared thread pool, never on the event loop.

Calls for one stream are serialized (one in flight, order kept). Audio waiting behind the
in-flight call is batched into the next call (up to ``max_batch_bytes``); beyond
``max_backlog_bytes`` waiting, new audio is dropped and counted. Bounds are in bytes: a caller
cannot queue more audio by sending it in bigger chunks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from ivr.asr.base import AsrResult, RecognizerStream
from ivr.core.errors import AsrError

log = logging.getLogger(__name__)


# 16 kHz PCM16: 32,000 bytes per second of audio.
DEFAULT_BACKLOG_BYTES = 10 * 32_000
DEFAULT_BATCH_BYTES = 32_000 // 2


@dataclass(frozen=True, slots=True)
class StreamStats:
    fed_chunks: int
    dropped_chunks: int
    decode_calls: int
    backlog: int
    backlog_bytes: int = 0
    dropped_bytes: int = 0


class AsyncRecognizer:
    """Feeds audio without blocking; partials go to ``on_partial`` on the event loop."""

    def __init__(
        self,
        stream: RecognizerStream,
        executor: Executor,
        *,
        max_backlog_bytes: int = DEFAULT_BACKLOG_BYTES,
        max_batch_bytes: int = DEFAULT_BATCH_BYTES,
        on_partial: Callable[[AsrResult], None] | None = None,
    ) -> None:
        if max_backlog_bytes <= 0 or max_batch_bytes <= 0:
            raise ValueError("max_backlog_bytes and max_batch_bytes must be positive")
        self._stream = stream
        self._executor = executor
        self._max_backlog = max_backlog_bytes
        self._max_batch = max_batch_bytes
        self._pending_bytes = 0
        self._dropped_bytes = 0
        self._on_partial = on_partial
        self._pending: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False
        self._error: AsrError | None = None
        self._fed = 0
        self._dropped = 0
        self._calls = 0
        self.latest_partial: AsrResult | None = None

    @property
    def stats(self) -> StreamStats:
        return StreamStats(self._fed, self._dropped, self._calls, len(self._pending),
                           self._pending_bytes, self._dropped_bytes)

    def feed(self, pcm16: bytes) -> bool:
        """Queue audio for decoding; False if it was dropped (backlog full, closed or failed)."""
        if self._closing or self._closed or self._error is not None:
            return False
        if self._pending_bytes + len(pcm16) > self._max_backlog:
            if self._dropped == 0:
                log.warning("ASR backlog full (%d bytes): dropping audio", self._max_backlog)
            self._dropped += 1
            self._dropped_bytes += len(pcm16)
            return False
        self._pending.append(pcm16)
        self._pending_bytes += len(pcm16)
        self._fed += 1
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run())
        self._wakeup.set()
        return True

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            parts = [self._pending.popleft()]
            size = len(parts[0])
            while self._pending and size + len(self._pending[0]) <= self._max_batch:
                parts.append(self._pending.popleft())
                size += len(parts[-1])
            self._pending_bytes -= size
            batch = b"".join(parts)
            self._calls += 1
            try:
                result = await loop.run_in_executor(self._executor, self._stream.accept, batch)
            except AsrError as exc:
                self._error = exc
                self._pending.clear()
                self._pending_bytes = 0
                return
            if result is not None:
                self.latest_partial = result
                if self._on_partial is not None:
                    self._on_partial(result)

    async def finish(self) -> AsrResult:
        """Decode everything queued, then return the final result."""
        if self._closing or self._closed:
            raise AsrError("recognizer already finished or closed")
        self._closing = True
        self._wakeup.set()
        try:
            if self._worker is not None:
                await self._worker
        except asyncio.CancelledError:
            self._abandon()
            raise
        if self._error is not None:
            raise self._error
        loop = asyncio.get_running_loop()
        self._calls += 1
        try:
            return await loop.run_in_executor(self._executor, self._stream.finish)
        finally:
            self._closed = True

    def _abandon(self) -> None:
        self._closed = True
        self._pending.clear()
        self._pending_bytes = 0
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()

    async def aclose(self) -> None:
        """Stop without a final result (e.g. the caller hung up). The stream is not reused."""
        self._closing = True
        self._abandon()
        if self._worker is not None:
            await asyncio.gather(self._worker, return_exceptions=True)
