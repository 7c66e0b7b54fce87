"""N simulated calls at once; latency figures from the simulated phone's own clock."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from ivr.bench.serve import served
from ivr.bench.stats import ResourceMonitor, server_state, spread, write_results
from ivr.config import ROOT, Config
from ivr.sim.cli import options_from_config
from ivr.sim.phone import PhoneSimulator, SimResult
from ivr.sim.script import load_script

DEFAULT_SCRIPT = ROOT / "audio" / "fixtures" / "zh" / "happy_path" / "script.yaml"
CLOSED = frozenset({"yes_no", "digits", "rating"})


def turn_latencies(results: list[SimResult]) -> tuple[dict[str, list[float]], int]:
    """Phone-measured reply latencies of spoken answers, by the question's expectation (read
    from the call record: the n-th spoken answer is the n-th caller turn)."""
    by_kind: dict[str, list[float]] = {}
    unmatched = 0
    for result in results:
        spoken = [t for t in result.turns if t.kind == "speech" and t.latency_ms is not None]
        record = result.record or {}
        caller = [t for t in record.get("turns", []) if t.get("role") == "caller"
                  and t.get("source") == "speech"]
        if len(caller) < len(spoken):
            unmatched += len(spoken)
            caller = [{}] * len(spoken)
        for timing, turn in zip(spoken, caller, strict=False):
            assert timing.latency_ms is not None
            by_kind.setdefault(str(turn.get("expectation") or "unknown"), []).append(
                timing.latency_ms)
    return by_kind, unmatched


def summarize(results: list[SimResult], wall_s: float, calls: int) -> dict[str, Any]:
    by_kind, unmatched = turn_latencies(results)
    every = [v for values in by_kind.values() for v in values]
    closed = [v for kind, values in by_kind.items() if kind in CLOSED for v in values]
    return {
        "calls": calls,
        "calls_completed": sum(1 for r in results if not r.errors and not r.refused),
        "calls_with_problems": [r.call_sid for r in results if r.errors or r.refused],
        "problems": sorted({e for r in results for e in r.errors}),
        "answer_to_first_greeting_audio_ms": spread(
            [r.answer_ms for r in results if r.answer_ms is not None]),
        "stream_start_to_first_greeting_audio_ms": spread(
            [r.greeting_ms for r in results if r.greeting_ms is not None]),
        "turn_latency_ms": {"all": spread(every), "closed": spread(closed),
                            **{kind: spread(v) for kind, v in sorted(by_kind.items())}},
        "turns_not_classified": unmatched,
        "phone_frames_sent": sum(r.frames_sent for r in results),
        "phone_frames_late": sum(r.frames_late for r in results),
        "wall_s": round(wall_s, 1),
    }


@contextlib.asynccontextmanager
async def _server(args: argparse.Namespace, config: Config) -> AsyncIterator[tuple[str, int]]:
    if args.serve:
        async with served(args.config) as (url, pid):
            yield url, pid
        return
    yield args.url or config.server.public_url, 0


async def run_call_bench(args: argparse.Namespace, config: Config) -> int:
    script = load_script(Path(args.script) if args.script else DEFAULT_SCRIPT)
    async with _server(args, config) as (url, pid):
        options = options_from_config(config, url)
        base = options.base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {options.api_token}"} if options.api_token else {}
        before = await server_state(base, headers)
        if not before.get("ready"):
            print(f"server not ready: {before.get('reason')}")
            return 2
        sim = PhoneSimulator(options)
        for _ in range(args.warmup):  # the first calls after a start pay for lazy loading
            await sim.call(script, record=False)
        before = await server_state(base, headers)
        pid = pid or int(before.get("pid") or 0)
        monitor = ResourceMonitor(pid) if pid else None
        if monitor is not None:
            monitor.start()
        results: list[SimResult] = []
        started = time.monotonic()
        for _ in range(args.rounds):
            results += await asyncio.gather(*(sim.call(script) for _ in range(args.calls)))
        wall = time.monotonic() - started
        resources = await monitor.stop() if monitor is not None else None
        after = await server_state(base, headers)
    m0, m1 = before["metrics"], after["metrics"]

    def delta(name: str) -> float:
        return float(m1.get(f"ivr_{name}", 0.0)) - float(m0.get(f"ivr_{name}", 0.0))

    audio_s = delta("asr_audio_seconds_total")
    summary = summarize(results, wall, args.calls * args.rounds)
    summary.update(
        provider=args.provider, concurrent_calls=args.calls, rounds=args.rounds,
        warmup_calls=args.warmup, script=str(script.path),
        asr_rtf=round(delta("asr_decode_seconds_total") / audio_s, 4) if audio_s else None,
        server_playback_frames=int(delta("playback_frames_total")),
        server_playback_frames_late=int(delta("playback_frames_late_total")),
        server_wire_errors=int(delta("wire_errors_total")),
        resources=asdict(resources) if resources is not None else None,
        machine={"cpus": psutil.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform()},
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_results(args.out, summary)
    return 0 if summary["calls_completed"] == summary["calls"] else 1
