"""A pool of pyttsx3 worker processes with per-job timeouts, restarts and voice validation."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

from ivr.core.audio import Pcm
from ivr.core.errors import ErrorCode, TtsError
from ivr.tts.process import WorkerProcess
from ivr.tts.protocol import Failed, Job, JobKind, Rendered, Reply, VoiceInfo, Voices
from ivr.tts.voices import check_voices

ENGINE_NAME = "pyttsx3-2.99/espeak-ng"


@dataclass(slots=True)
class PoolStats:
    jobs: int = 0
    failures: int = 0
    timeouts: int = 0
    restarts: int = 0
    startup_s: list[float] = field(default_factory=list)


class TtsWorkerPool:
    """``size`` worker processes; each job runs in exactly one, off the event loop."""

    engine_name = ENGINE_NAME

    def __init__(
        self,
        size: int = 2,
        job_timeout_s: float = 10.0,
        *,
        recycle_after: int = 1000,
        startup_timeout_s: float = 30.0,
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._timeout_s = job_timeout_s
        self._recycle_after = recycle_after
        self._workers = [WorkerProcess(startup_timeout_s) for _ in range(size)]
        self._executor = concurrent.futures.ThreadPoolExecutor(size, thread_name_prefix="tts")
        self._idle: asyncio.Queue[WorkerProcess] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._voices: tuple[VoiceInfo, ...] = ()
        self._closed = False
        self.stats = PoolStats()

    async def start(self, required_voices: Iterable[str] = ()) -> None:
        """Start every worker, then check that ``required_voices`` are installed."""
        self._loop = asyncio.get_running_loop()
        starts = [self._loop.run_in_executor(self._executor, w.start) for w in self._workers]
        try:
            self.stats.startup_s += await asyncio.gather(*starts)
        except (TimeoutError, RuntimeError, OSError) as exc:
            await self.close()
            raise TtsError(f"TTS worker failed to start: {exc}") from exc
        for worker in self._workers:
            self._idle.put_nowait(worker)
        reply = await self._submit(Job(JobKind.VOICES))
        assert isinstance(reply, Voices)
        self._voices = reply.voices
        try:
            check_voices(required_voices, self._voices)
        except TtsError:
            await self.close()
            raise

    @property
    def voices(self) -> tuple[VoiceInfo, ...]:
        return self._voices

    async def render(self, text: str, voice_id: str, rate_wpm: int, volume: float) -> Pcm:
        """Render at the engine's native rate (22 050 Hz for espeak-ng)."""
        reply = await self._submit(Job(JobKind.RENDER, text, voice_id, rate_wpm, volume))
        assert isinstance(reply, Rendered)
        return Pcm(reply.data, reply.rate)

    async def inject_fault(self, kind: JobKind, seconds: float = 0.0) -> None:
        """Test hook: make one worker hang (``HANG``) or die (``CRASH``)."""
        if kind not in (JobKind.HANG, JobKind.CRASH):
            raise ValueError(f"{kind} is not a fault")
        await self._submit(Job(kind, seconds=seconds))

    async def _submit(self, job: Job) -> Reply:
        if self._closed or self._loop is None:
            raise TtsError("TTS worker pool is not running")
        worker = await self._idle.get()
        try:
            future = self._executor.submit(self._run, worker, job)
        except RuntimeError:  # executor shut down by close()
            raise TtsError("TTS worker pool is closed") from None
        future.add_done_callback(lambda _f: self._release(worker))
        # If the caller is cancelled the job still finishes in its thread; the worker is
        # returned to the idle queue only then, so no two jobs ever share a process.
        return await asyncio.wrap_future(future)

    def _release(self, worker: WorkerProcess) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed() and not self._closed:
            loop.call_soon_threadsafe(self._idle.put_nowait, worker)

    def _run(self, worker: WorkerProcess, job: Job) -> Reply:
        """Blocking: runs in an executor thread."""
        self.stats.jobs += 1
        try:
            reply = worker.call(job, self._timeout_s)
        except TimeoutError as exc:
            self.stats.timeouts += 1
            self._restart(worker)
            raise TtsError(str(exc), code=ErrorCode.TTS_TIMEOUT) from exc
        except (EOFError, OSError) as exc:
            self.stats.failures += 1
            self._restart(worker)
            raise TtsError(f"TTS worker died: {exc!r}") from exc
        if isinstance(reply, Failed):
            self.stats.failures += 1
            self._restart(worker)  # espeak state is suspect after a failed render
            raise TtsError(f"TTS render failed: {reply.message}")
        if worker.jobs_done >= self._recycle_after:
            self._restart(worker)
        return reply

    def _restart(self, worker: WorkerProcess) -> None:
        worker.kill()
        if self._closed:
            return
        self.stats.restarts += 1
        try:
            self.stats.startup_s.append(worker.start())
        except (TimeoutError, RuntimeError, OSError):
            worker.kill()  # the next job on this handle tries to start it again

    async def close(self) -> None:
        """Stop every worker process and the executor threads."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(None, w.stop) for w in self._workers),
            return_exceptions=True,
        )
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> TtsWorkerPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
