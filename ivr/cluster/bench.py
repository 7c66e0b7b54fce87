"""``ivr cluster bench``: how many calls this machine holds at the turn-latency target
(p95 <= 800 ms), with 1 worker on SQLite, 1 worker on PostgreSQL and 2 workers on PostgreSQL
+ Redis; the scaling ratio, and where the time and the CPU go at the limit.

For each topology the concurrency is raised level by level (N simultaneous calls of the
fixture script, spread round-robin over the workers) until a level misses the target or a
call fails. Per level: turn latency (phone side: caller's last voiced frame -> first bot
audio, endpointing included) overall and per worker, the server's own per-turn split (ASR,
Rasa, TTS: p95 from the stored turns), and the CPU cores each component used (IVR workers
with their TTS processes, Rasa, action servers, PostgreSQL, Redis) and the machine's total.
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from ivr.bench.calls import summarize
from ivr.bench.stats import pct
from ivr.cluster.launch import Launched, Topology, launch
from ivr.config import Config
from ivr.sim.phone import PhoneSimulator, SimOptions, SimResult
from ivr.sim.script import CallScript
from ivr.store.factory import open_stores

TARGET_P95_MS = 800.0


@dataclass
class CpuMeter:
    """CPU seconds per component between ``start`` and ``stop``. The processes are listed again
    at ``stop``: one that appeared meanwhile (a PostgreSQL backend for a new connection, a TTS
    process) counts all its CPU time."""

    launched: Launched

    def _procs(self) -> dict[str, list[psutil.Process]]:
        procs = self.launched.components()
        procs["phone_simulator"] = [psutil.Process()]  # the load generator, same box
        return procs

    def start(self) -> None:
        self._before = {_key(p): _cpu(p) for ps in self._procs().values() for p in ps}
        self._wall = time.monotonic()
        psutil.cpu_percent(None)

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._wall
        cores = {role: round(sum(max(0.0, _cpu(p) - self._before.get(_key(p), 0.0))
                                 for p in procs) / wall, 2)
                 for role, procs in self._procs().items()}
        cores["machine_busy_percent"] = psutil.cpu_percent(None)
        return cores


def _key(proc: psutil.Process) -> tuple[int, float]:
    try:
        return proc.pid, proc.create_time()
    except psutil.Error:
        return proc.pid, 0.0


def _cpu(proc: psutil.Process) -> float:
    try:
        times = proc.cpu_times()
        return float(times.user + times.system)
    except psutil.Error:
        return 0.0


async def _server_split(launched: Launched, sids: list[str]) -> dict[str, float | None]:
    stores = await open_stores(launched.target)
    try:
        turns = [t for sid in sids for t in await stores.calls.get_turns(sid)]
    finally:
        await stores.close()
    split: dict[str, float | None] = {}
    for name in ("asr_ms", "dialogue_ms", "tts_ms", "latency_ms"):
        values = [float(v) for t in turns if (v := getattr(t, name)) is not None]
        split[f"{name}_p95"] = pct(values, 0.95)
    return split


async def run_level(launched: Launched, calls: int, script: CallScript,
                    auth_token: str) -> dict[str, Any]:
    meter = CpuMeter(launched)
    meter.start()
    sims = [PhoneSimulator(SimOptions(base_url=url, public_url=url, auth_token=auth_token))
            for url in launched.urls]
    started = time.monotonic()
    results: list[SimResult] = await asyncio.gather(
        *(sims[n % len(sims)].call(script, record=False) for n in range(calls)))
    wall = time.monotonic() - started
    level: dict[str, Any] = summarize(results, wall, calls)
    level["cpu_cores"] = meter.stop()
    level["per_worker_p95_ms"] = {
        url: pct([t.latency_ms for r in results[n::len(sims)] for t in r.turns
                  if t.latency_ms is not None and t.kind == "speech"], 0.95)
        for n, url in enumerate(launched.urls)}
    level["server_split"] = await _server_split(launched, [r.call_sid for r in results])
    p95 = level["turn_latency_ms"]["all"]["p95"]
    level["held"] = bool(level["calls_completed"] == calls and p95 is not None
                         and p95 <= TARGET_P95_MS)
    return level


def _bottleneck(level: dict[str, Any]) -> str:
    cores = {k: v for k, v in level["cpu_cores"].items() if k != "machine_busy_percent"}
    top = sorted(cores.items(), key=lambda kv: kv[1], reverse=True)
    split = level["server_split"]
    parts = {k: v for k, v in split.items() if k != "latency_ms_p95" and v is not None}
    slowest = max(parts.items(), key=lambda kv: kv[1]) if parts else ("?", None)
    return (f"machine {level['cpu_cores']['machine_busy_percent']:.0f}% busy; CPU cores by "
            f"component: {', '.join(f'{k} {v}' for k, v in top)}; slowest server step p95: "
            f"{slowest[0]} {slowest[1]} ms")


async def bench_topology(config: Config, config_file: str | None, topology: Topology,
                         levels: list[int], script: CallScript) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with launch(config, config_file, topology) as launched:
        await run_level(launched, 1, script, config.twilio.auth_token)  # warm caches
        for calls in levels:
            level = await run_level(launched, calls, script, config.twilio.auth_token)
            runs.append(level)
            print(f"[{topology.name}] {calls} calls: turn p95 "
                  f"{level['turn_latency_ms']['all']['p95']} ms, "
                  f"completed {level['calls_completed']}; {_bottleneck(level)}", flush=True)
            if not level["held"]:
                break
    held = max((r["calls"] for r in runs if r["held"]), default=0)
    limit = next((r for r in runs if not r["held"]), runs[-1] if runs else None)
    return {"topology": topology.name, "workers": topology.workers, "store": topology.store,
            "held_calls_total": held, "held_calls_per_worker": held / topology.workers,
            "levels": runs, "at_the_limit": _bottleneck(limit) if limit else None}


async def bench_scale(config: Config, config_file: str | None, topologies: list[Topology],
                      levels: list[int], script: CallScript, out: Path,
                      earlier: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run each topology; ``earlier`` results of other topologies (``--keep``: read from
    ``out``) stay in the report, so one topology per run fits a short slot on a shared
    machine."""
    report: dict[str, Any] = {
        "target_turn_p95_ms": TARGET_P95_MS,
        "machine": {"cpus": psutil.cpu_count(), "memory_gb": round(
            psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version()},
        "topologies": []}
    names = {t.name for t in topologies}
    report["topologies"] = [t for t in earlier or [] if t.get("topology") not in names]
    for topology in topologies:
        result = await bench_topology(config, config_file, topology, levels, script)
        result.update({"script": str(script.path), "levels_tried": levels,
                       "at": datetime.now(UTC).isoformat(timespec="seconds")})
        report["topologies"].append(result)
        _save(out, report)
    held = {t["topology"]: t["held_calls_total"] for t in report["topologies"]}
    one, two = held.get("1x-postgresql"), held.get("2x-postgresql")
    report["scaling_ratio_2_over_1"] = round(two / one, 2) if one and two is not None else None
    _save(out, report)
    return report


def _save(out: Path, report: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
