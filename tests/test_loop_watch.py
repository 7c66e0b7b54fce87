"""The event-loop watcher: lag and stalls on an injected clock, collections timed by phase."""

from __future__ import annotations

import asyncio
import gc

import pytest

from ivr.loop_watch import GcTimer, LagStats, LoopWatch, freeze_startup_heap
from ivr.metrics import Metrics


def test_lag_stats_count_stalls_beyond_the_threshold() -> None:
    stats = LagStats(stall_s=0.05)
    for lag in (0.0, 0.01, -0.002, 0.051, 0.2):
        stats.record(lag)
    assert (stats.wakeups, stats.stalls) == (5, 2)
    assert stats.max_lag_s == 0.2
    assert stats.total_lag_s == pytest.approx(0.261)


def test_gc_timer_times_each_collection_by_generation() -> None:
    now = [10.0]
    timer = GcTimer(clock=lambda: now[0])
    for generation, pause in ((0, 0.001), (2, 0.07), (2, 0.015)):
        timer("start", {"generation": generation})
        now[0] += pause
        timer("stop", {"generation": generation})
    timer("stop", {"generation": 1})  # a stop without its start is ignored
    assert timer.stats.collections == [1, 0, 2]
    assert timer.stats.pause_s[2] == pytest.approx(0.085)
    assert timer.stats.max_pause_s[2] == pytest.approx(0.07)
    assert timer.stats.long_pauses == 1  # over 20 ms


def test_the_watcher_sees_a_loop_held_by_a_callback() -> None:
    now = [0.0]

    async def run() -> LoopWatch:
        watch = LoopWatch(interval_s=0.001, stall_s=0.05, clock=lambda: now[0])
        watch.start()
        await asyncio.sleep(0.01)

        def hold() -> None:  # what a blocking callback does to the loop's time
            now[0] += 0.3

        asyncio.get_running_loop().call_soon(hold)
        seen = watch.lag.wakeups
        for _ in range(10_000):  # a few wake-ups after the hold
            await asyncio.sleep(0.001)
            if watch.lag.wakeups >= seen + 5:
                break
        await watch.stop()
        return watch

    watch = asyncio.run(run())
    assert watch.lag.stalls == 1
    assert watch.lag.max_lag_s == pytest.approx(0.299)
    assert watch.gc not in gc.callbacks  # stopped: no longer called


def test_metrics_show_the_watchers_figures() -> None:
    watch = LoopWatch()
    watch.lag.record(0.08)
    watch.gc.stats.record(2, 0.012)
    metrics = Metrics(process_figures=watch.gauges)
    text = metrics.render({})
    assert "# TYPE ivr_event_loop_stalls_total counter\nivr_event_loop_stalls_total 1" in text
    assert "ivr_event_loop_lag_max_ms 80.0" in text
    assert "ivr_gc_gen2_collections_total 1" in text
    assert "# TYPE ivr_gc_gen2_pause_max_ms gauge\nivr_gc_gen2_pause_max_ms 12.0" in text


def test_freezing_the_startup_heap_keeps_it_out_of_full_collections() -> None:
    kept = [[i] for i in range(10_000)]  # what start-up built
    try:
        frozen = freeze_startup_heap()
        assert frozen >= len(kept)
        assert gc.get_freeze_count() == frozen
        collected = {id(o) for o in gc.get_objects()}  # what a full collection walks
        assert not any(id(o) in collected for o in kept)
        assert id(kept) not in collected
    finally:
        gc.unfreeze()
