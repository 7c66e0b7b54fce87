"""How late the event loop runs, and what the garbage collector costs it.

Every call's media is paced on the one event loop (a frame every 20 ms, sent a few frames
ahead): anything that holds the loop longer than that lead makes frames late. This watcher
measures it in production as well as in the benchmark, so a stall is a number, not a guess:

- **loop lag**: a task asks to wake every ``interval_s``; how much later than asked it woke is
  the time something else held the loop (``stalls`` counts wake-ups later than
  ``stall_s``);
- **garbage collection**: the interpreter's own start/stop callbacks time every collection, by
  generation (a full collection walks every live object and runs on whichever thread allocated
  — usually the loop's).

:class:`LagStats` is the pure part (lags in, figures out); :class:`LoopWatch` runs it on a loop
with the clock it is given. :func:`freeze_startup_heap` keeps what start-up built (modules,
models' Python side, prompts, configuration) out of every later full collection."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LagStats:
    stall_s: float = 0.05
    wakeups: int = 0
    stalls: int = 0
    max_lag_s: float = 0.0
    total_lag_s: float = 0.0

    def record(self, lag_s: float) -> None:
        lag_s = max(0.0, lag_s)
        self.wakeups += 1
        self.total_lag_s += lag_s
        self.max_lag_s = max(self.max_lag_s, lag_s)
        if lag_s > self.stall_s:
            self.stalls += 1


@dataclass
class GcStats:
    long_s: float = 0.02  # a pause longer than this is counted in ``long_pauses``
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    pause_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    max_pause_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    long_pauses: int = 0

    def record(self, generation: int, pause_s: float) -> None:
        g = min(max(generation, 0), 2)
        self.collections[g] += 1
        self.pause_s[g] += pause_s
        self.max_pause_s[g] = max(self.max_pause_s[g], pause_s)
        self.long_pauses += pause_s > self.long_s


class GcTimer:
    """Times collections through ``gc.callbacks`` (per thread: a collection starts and stops
    on the thread that triggered it)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.stats = GcStats()
        self._clock = clock
        self._started = threading.local()
        self._installed = False

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started.at = self._clock()
        elif phase == "stop":
            at = getattr(self._started, "at", None)
            if at is not None:
                self.stats.record(int(info.get("generation", 2)), self._clock() - at)
                self._started.at = None

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self)
            self._installed = True

    def remove(self) -> None:
        if self._installed:
            gc.callbacks.remove(self)
            self._installed = False


def freeze_startup_heap() -> int:
    """Once start-up is done: collect, then move every surviving object to the permanent
    generation, so a full collection during calls walks only what calls created (measured: a
    full collection held the loop 54 ms without this). Returns the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class LoopWatch:
    def __init__(self, *, interval_s: float = 0.01, stall_s: float = 0.05,
                 clock: Callable[[], float] | None = None) -> None:
        self.interval_s = interval_s
        self.lag = LagStats(stall_s=stall_s)
        self.gc = GcTimer()
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        clock = self._clock or loop.time
        self.gc.install()
        self._task = loop.create_task(self._run(clock), name="loop-watch")

    async def _run(self, clock: Callable[[], float]) -> None:
        while True:
            asked = clock() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.lag.record(clock() - asked)

    async def stop(self) -> None:
        self.gc.remove()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def gauges(self) -> dict[str, float]:
        """For the metrics endpoint (ivr_ prefix added there)."""
        g = self.gc.stats
        return {
            "event_loop_wakeups_total": self.lag.wakeups,
            "event_loop_stalls_total": self.lag.stalls,
            "event_loop_lag_max_ms": round(self.lag.max_lag_s * 1000, 1),
            "event_loop_lag_seconds_total": round(self.lag.total_lag_s, 3),
            **{f"gc_gen{n}_collections_total": g.collections[n] for n in range(3)},
            **{f"gc_gen{n}_pause_seconds_total": round(g.pause_s[n], 4) for n in range(3)},
            **{f"gc_gen{n}_pause_max_ms": round(g.max_pause_s[n] * 1000, 2) for n in range(3)},
            "gc_pauses_over_20ms_total": g.long_pauses,
        }
