"""Percentiles, the server's resource use, and its readiness and counters."""

from __future__ import annotations

import asyncio
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def spread(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": pct(values, 0.5), "p95": pct(values, 0.95),
            "max": round(max(values), 1) if values else None}


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


async def server_state(base: str, headers: dict[str, str]) -> dict[str, Any]:
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


def write_results(path: str, data: dict[str, Any]) -> None:
    """The results file (plain blocking I/O, once at the end of a run)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(data, indent=1, ensure_ascii=False))
