"""``ivr bench``: N simulated calls at once against a running server; writes a results file.

Turn latency is measured by the simulated phone: the caller's last voiced frame leaving the
phone → the first bot audio frame arriving (endpointing silence included)."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from ivr.config import ROOT, Config
from ivr.sim.cli import echo_spec, options_from_config
from ivr.sim.line import SimResult
from ivr.sim.providers import phone_for
from ivr.sim.script import load_script

DEFAULT_SCRIPT = ROOT / "audio" / "fixtures" / "zh" / "happy_path" / "script.yaml"


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


@dataclass
class ResourceSample:
    cpu_percent_mean: float
    cpu_percent_max: float
    peak_rss_mb: float


class ResourceMonitor:
    """Samples CPU and RSS of the server process tree (IVR + Rasa + action server)."""

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._cpu: list[float] = []
        self._peak = 0.0
        self._task: asyncio.Task[None] | None = None

    def _procs(self) -> list[psutil.Process]:
        try:
            return [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return []

    async def _run(self) -> None:
        for proc in self._procs():
            proc.cpu_percent(None)
        while True:
            await asyncio.sleep(0.5)
            cpu = rss = 0.0
            for proc in self._procs():
                try:
                    cpu += proc.cpu_percent(None)
                    rss += proc.memory_info().rss
                except psutil.Error:
                    continue
            self._cpu.append(cpu)
            self._peak = max(self._peak, rss / 2**20)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> ResourceSample:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return ResourceSample(
            round(statistics.fmean(self._cpu), 1) if self._cpu else 0.0,
            round(max(self._cpu), 1) if self._cpu else 0.0,
            round(self._peak, 1),
        )


async def _server_state(base: str, headers: dict[str, str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/readyz") as resp:
            ready: dict[str, Any] = await resp.json()
        async with http.get(f"{base}/metrics", headers=headers) as resp:
            metrics = await resp.text()
    values = {}
    for line in metrics.splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, _, value = line.partition(" ")
            values[name] = float(value)
    ready["metrics"] = values
    return ready


def summarize(results: list[SimResult], wall_s: float, calls: int) -> dict[str, Any]:
    latencies = [t.latency_ms for r in results for t in r.turns
                 if t.latency_ms is not None and t.kind == "speech"]
    greetings = [r.greeting_ms for r in results if r.greeting_ms is not None]
    return {
        "calls": calls,
        "calls_completed": sum(1 for r in results if not r.errors and not r.refused),
        "calls_with_problems": [r.call_sid for r in results if r.errors or r.refused],
        "problems": sorted({e for r in results for e in r.errors}),
        "turns_measured": len(latencies),
        "turn_latency_ms": {"p50": pct(latencies, 0.5), "p95": pct(latencies, 0.95),
                            "max": round(max(latencies), 1) if latencies else None},
        "answer_to_greeting_ms": {"p50": pct(greetings, 0.5), "p95": pct(greetings, 0.95),
                                  "max": round(max(greetings), 1) if greetings else None},
        "phone_frames_sent": sum(r.frames_sent for r in results),
        "phone_frames_late": sum(r.frames_late for r in results),
        "wall_s": round(wall_s, 1),
    }


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def run_bench(args: argparse.Namespace, config: Config) -> int:
    script = load_script(Path(args.script) if args.script else DEFAULT_SCRIPT)
    options = options_from_config(config, args.url, echo_spec(args))
    provider = getattr(args, "provider", "twilio")
    base = options.base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {options.api_token}"} if options.api_token else {}
    before = await _server_state(base, headers)
    if not before.get("ready"):
        print(f"server not ready: {before.get('reason')}")
        return 2
    monitor = ResourceMonitor(int(before["pid"]))
    monitor.start()
    results: list[SimResult] = []
    async with phone_for(provider, options, config) as sim:
        started = time.monotonic()
        for _ in range(args.rounds):
            results += await asyncio.gather(
                *(sim.call(script, record=False) for _ in range(args.calls))
            )
    wall = time.monotonic() - started
    resources = await monitor.stop()
    after = await _server_state(base, headers)
    m0, m1 = before["metrics"], after["metrics"]

    def delta(name: str) -> float:
        return float(m1.get(f"ivr_{name}", 0.0)) - float(m0.get(f"ivr_{name}", 0.0))

    audio_s = delta("asr_audio_seconds_total")
    summary = summarize(results, wall, args.calls * args.rounds)
    summary.update(
        provider=provider,
        echo_db=options.echo.level_db if options.echo else None,
        concurrent_calls=args.calls,
        rounds=args.rounds,
        script=str(script.path),
        asr_rtf=round(delta("asr_decode_seconds_total") / audio_s, 4) if audio_s else None,
        server_playback_frames=int(delta("playback_frames_total")),
        server_playback_frames_late=int(delta("playback_frames_late_total")),
        server_wire_errors=int(delta("wire_errors_total")),
        resources=asdict(resources),
        machine={"cpus": psutil.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform()},
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    out = Path(args.out)
    _write(out, json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0 if summary["calls_completed"] == summary["calls"] else 1
