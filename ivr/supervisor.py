"""Supervised child processes (the Rasa server and the action server): start, wait for
health, restart on crash with back-off, stop cleanly. Reports each part's state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[bool]]


class PartState(StrEnum):
    STARTING = "starting"
    UP = "up"
    DOWN = "down"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    health: HealthCheck
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    startup_timeout_s: float = 240.0
    health_interval_s: float = 5.0
    # The environment the child starts from (None: this process's), before ``env`` is added.
    base_env: Mapping[str, str] | None = None


class Child:
    """One supervised process."""

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.state = PartState.STOPPED
        self.restarts = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._up = asyncio.Event()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._supervise(), name=f"supervise-{self.spec.name}")

    async def wait_up(self, limit_s: float) -> bool:
        try:
            await asyncio.wait_for(self._up.wait(), limit_s)
        except TimeoutError:
            return False
        return True

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = dict(os.environ if self.spec.base_env is None else self.spec.base_env)
        env.update(self.spec.env)
        log.info("starting %s: %s", self.spec.name, " ".join(self.spec.argv))
        return await asyncio.create_subprocess_exec(
            *self.spec.argv,
            cwd=str(self.spec.cwd) if self.spec.cwd else None,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )

    async def _pipe_logs(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        child_log = logging.getLogger(f"ivr.child.{self.spec.name}")
        async for line in proc.stdout:
            child_log.info("%s", line.decode("utf-8", "replace").rstrip())

    async def _supervise(self) -> None:
        backoff = 1.0
        while not self._stopping:
            self.state = PartState.STARTING
            self._up.clear()
            started = time.monotonic()
            try:
                proc = await self._spawn()
            except OSError as exc:
                log.error("%s could not start: %s", self.spec.name, exc)
                self.state = PartState.DOWN
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            self.proc = proc
            logs = asyncio.create_task(self._pipe_logs(proc))
            watch = asyncio.create_task(self._watch_health(proc))
            code = await proc.wait()
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(logs, 2)
            self._up.clear()
            if self._stopping:
                break
            self.state = PartState.DOWN
            self.restarts += 1
            if time.monotonic() - started > 120:
                backoff = 1.0
            log.error("%s exited with code %s; restarting in %.0f s (restart %d)",
                      self.spec.name, code, backoff, self.restarts)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30)
        self.state = PartState.STOPPED

    async def _watch_health(self, proc: asyncio.subprocess.Process) -> None:
        deadline = time.monotonic() + self.spec.startup_timeout_s
        while proc.returncode is None:
            healthy = await self.spec.health()
            if healthy and self.state is not PartState.UP:
                log.info("%s is up", self.spec.name)
                self.state = PartState.UP
                self._up.set()
            elif not healthy and self.state is PartState.UP:
                log.warning("%s stopped answering its health check", self.spec.name)
                self.state = PartState.DOWN
                self._up.clear()
            elif not healthy and self.state is PartState.STARTING \
                    and time.monotonic() > deadline:
                log.error("%s not healthy after %.0f s; killing it", self.spec.name,
                          self.spec.startup_timeout_s)
                self._kill(proc, signal.SIGKILL)
                return
            interval = self.spec.health_interval_s if self.state is PartState.UP else 0.5
            await asyncio.sleep(interval)
        # The main process is gone; leftovers of its group would keep its output pipe open
        # (so ``proc.wait()`` never returns) and may hold its port: end them.
        self._kill(proc, signal.SIGKILL)

    @staticmethod
    def _kill(proc: asyncio.subprocess.Process, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)

    async def stop(self, grace_s: float = 10.0) -> None:
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            self._kill(proc, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), grace_s)
            except TimeoutError:
                log.warning("%s ignored SIGTERM; killing", self.spec.name)
                self._kill(proc, signal.SIGKILL)
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.state = PartState.STOPPED


class Supervisor:
    def __init__(self, specs: Sequence[ChildSpec]) -> None:
        self.children = {spec.name: Child(spec) for spec in specs}

    async def start(self, *, wait: bool = True) -> None:
        for child in self.children.values():
            await child.start()
        if not wait:
            return
        results = await asyncio.gather(
            *(c.wait_up(c.spec.startup_timeout_s) for c in self.children.values())
        )
        for child, ok in zip(self.children.values(), results, strict=True):
            if not ok:
                log.error("%s did not become healthy in time", child.spec.name)

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.children.values()))

    def parts(self) -> dict[str, str]:
        return {name: child.state.value for name, child in self.children.items()}
