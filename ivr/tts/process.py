"""One TTS worker process: the child's main loop and the parent's blocking handle to it."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from ivr.tts.protocol import Failed, Job, JobKind, Ready, Rendered, Reply, Voices

if TYPE_CHECKING:
    from ivr.tts.pyttsx3_engine import Pyttsx3Renderer

_SPAWN = multiprocessing.get_context("spawn")


def worker_main(conn: Connection) -> None:
    """Child entry point: serve jobs until the pipe closes or ``None`` arrives."""
    # Ctrl-C reaches the whole foreground process group; the parent ends its workers itself
    # (a KeyboardInterrupt here would only print a traceback on the person's terminal).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - pyttsx3 prints on every save
    from ivr.tts.pyttsx3_engine import Pyttsx3Renderer

    with tempfile.TemporaryDirectory(prefix="ivr-tts-") as workdir:
        renderer = Pyttsx3Renderer(workdir)
        conn.send(Ready())
        while True:
            try:
                job = conn.recv()
            except EOFError:
                return
            if job is None:
                return
            conn.send(_serve(renderer, job))


def _serve(renderer: Pyttsx3Renderer, job: Job) -> Reply:
    try:
        if job.kind is JobKind.RENDER:
            return renderer.render(job.text, job.voice_id, job.rate_wpm, job.volume)
        if job.kind is JobKind.VOICES:
            return Voices(renderer.voices())
        if job.kind is JobKind.HANG:
            time.sleep(job.seconds)
            return Rendered(b"", 22050)
        if job.kind is JobKind.CRASH:
            os._exit(3)
        return Failed(f"unknown job kind {job.kind!r}")
    except Exception as exc:  # reported to the parent, which restarts this worker
        return Failed(f"{type(exc).__name__}: {exc}")


class WorkerProcess:
    """Parent-side handle. Blocking: call only from a worker thread, never the event loop."""

    def __init__(self, startup_timeout_s: float) -> None:
        self._startup_timeout_s = startup_timeout_s
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self.jobs_done = 0
        self.last_startup_s = 0.0

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def start(self) -> float:
        """Spawn the child and wait until its engine is ready; returns the start-up time."""
        self.kill()
        began = time.perf_counter()
        parent, child = _SPAWN.Pipe()
        proc = _SPAWN.Process(target=worker_main, args=(child,), name="ivr-tts", daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn, self.jobs_done = proc, parent, 0
        if not parent.poll(self._startup_timeout_s):
            self.kill()
            raise TimeoutError(f"TTS worker not ready after {self._startup_timeout_s} s")
        try:
            reply = parent.recv()
        except EOFError:
            exitcode = proc.exitcode
            self.kill()
            raise RuntimeError(f"TTS worker exited on start-up (code {exitcode})") from None
        if not isinstance(reply, Ready):
            self.kill()
            raise RuntimeError(f"TTS worker sent {reply!r} instead of Ready")
        self.last_startup_s = time.perf_counter() - began
        return self.last_startup_s

    def call(self, job: Job, timeout_s: float) -> Reply:
        """Run one job. Raises TimeoutError (worker still busy) or EOFError (worker died)."""
        if not self.alive:
            self.start()
        conn = self._conn
        if conn is None:
            raise EOFError("TTS worker was stopped")
        conn.send(job)
        if not conn.poll(timeout_s):
            raise TimeoutError(f"TTS job exceeded {timeout_s} s")
        reply: Reply = conn.recv()
        self.jobs_done += 1
        return reply

    def stop(self, grace_s: float = 2.0) -> None:
        """Ask the child to exit, then kill it if it does not."""
        if self._conn is not None and self.alive:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            if self._proc is not None:
                self._proc.join(grace_s)
        self.kill()

    def kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5.0)
            with contextlib.suppress(ValueError):
                proc.close()
        if conn is not None:
            conn.close()
