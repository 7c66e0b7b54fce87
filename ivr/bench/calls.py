"""N simulated calls at once; latency figures from the simulated phone's own clock."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import platform
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from ivr.bench.serve import asterisk_environment, served
from ivr.bench.stages import stage_summary
from ivr.bench.stats import ResourceMonitor, server_state, spread, write_results
from ivr.config import ROOT, Config
from ivr.sim.cli import echo_spec, options_from_config
from ivr.sim.line import SimResult
from ivr.sim.providers import Phone, phone_for
from ivr.sim.script import CallScript, load_script

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


def barge_ins(results: list[SimResult]) -> dict[str, Any]:
    """The script's barge-ins, the ones the IVR counted (more: the bot cut itself off, e.g. on
    its own echo) and how fast a genuine one stopped the prompt (media clock)."""
    scripted = sum(1 for r in results for t in r.turns if t.barge_in)
    counted = [int(((r.record or {}).get("counters") or {}).get("barge_ins", 0))
               for r in results]
    extra = sum(max(0, c - sum(1 for t in r.turns if t.barge_in))
                for r, c in zip(results, counted, strict=True))
    stops = [t.barge_stop_ms for r in results for t in r.turns
             if t.barge_in and t.barge_stop_ms is not None]
    return {"scripted": scripted, "counted_by_ivr": sum(counted), "unscripted": extra,
            "never_stopped": sum(1 for r in results for t in r.turns
                                 if t.barge_in and t.barge_stop_ms is None),
            "stop_ms": spread(stops)}


def summarize(results: list[SimResult], wall_s: float, calls: int,
              expected_outcome: str | None = None) -> dict[str, Any]:
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
        "outcome_as_scripted": sum(1 for r in results if expected_outcome is not None
                                   and (r.record or {}).get("outcome") == expected_outcome),
        "barge_ins": barge_ins(results),
        "phone_frames_sent": sum(r.frames_sent for r in results),
        "phone_frames_late": sum(r.frames_late for r in results),
        "wall_s": round(wall_s, 1),
        "server_stages_ms": stage_summary([r.record for r in results if r.record]),
    }


async def _staggered(sim: Phone, script: CallScript, index: int,
                     args: argparse.Namespace) -> SimResult:
    """Call ``index`` starts ``index`` steps into the ``--stagger-s`` window."""
    await asyncio.sleep(index * args.stagger_s / max(1, args.calls))
    return await sim.call(script)


@contextlib.asynccontextmanager
async def _server(args: argparse.Namespace, config: Config
                  ) -> AsyncIterator[tuple[str, int, Config]]:
    """The server's URL and pid, and the config the phone uses (for Asterisk: where the
    emulator listens)."""
    if args.serve:
        extra: dict[str, str] = {}
        if args.provider == "asterisk":
            extra = asterisk_environment(secrets.token_hex(8))
            config = replace(config, asterisk=replace(
                config.asterisk, enabled=True, ari_url=extra["IVR_ASTERISK_ARI_URL"],
                ari_password=extra["IVR_ASTERISK_ARI_PASSWORD"]))
        async with served(args.config, extra_env=extra,
                          rasa_servers=config.rasa.servers) as (url, pid):
            yield url, pid, config
        return
    yield args.url or config.server.public_url, 0, config


async def run_call_bench(args: argparse.Namespace, config: Config) -> int:
    script = load_script(Path(args.script) if args.script else DEFAULT_SCRIPT)
    solo: list[SimResult] = []  # the warm-up calls, alone: a turn's uncontended cost
    async with contextlib.AsyncExitStack() as stack:
        url, pid, config = await stack.enter_async_context(_server(args, config))
        options = options_from_config(config, url, echo_spec(args))
        if args.serve:  # the private server's public URL is its own address
            options = dataclasses.replace(options, public_url=url)
        sim = await stack.enter_async_context(phone_for(args.provider, options, config))
        base = options.base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {options.api_token}"} if options.api_token else {}
        before = await server_state(base, headers)
        if not before.get("ready"):
            print(f"server not ready: {before.get('reason')}")
            return 2
        for _ in range(args.warmup):  # the first calls after a start pay for lazy loading
            solo.append(await sim.call(script))
        before = await server_state(base, headers)
        pid = pid or int(before.get("pid") or 0)
        monitor = ResourceMonitor(pid) if pid else None
        if monitor is not None:
            monitor.start()
        results: list[SimResult] = []
        started = time.monotonic()
        for _ in range(args.rounds):
            results += await asyncio.gather(*(_staggered(sim, script, i, args)
                                              for i in range(args.calls)))
        wall = time.monotonic() - started
        resources = await monitor.stop() if monitor is not None else None
        after = await server_state(base, headers)
    m0, m1 = before["metrics"], after["metrics"]

    def delta(name: str) -> float:
        return float(m1.get(f"ivr_{name}", 0.0)) - float(m0.get(f"ivr_{name}", 0.0))

    audio_s = delta("asr_audio_seconds_total")
    expected = script.expect.get("outcome")
    summary = summarize(results, wall, args.calls * args.rounds,
                        str(expected) if expected is not None else None)
    summary.update(
        provider=args.provider, echo_db=args.echo_db, concurrent_calls=args.calls,
        rounds=args.rounds,
        warmup_calls=args.warmup, script=str(script.path),
        asr_rtf=round(delta("asr_decode_seconds_total") / audio_s, 4) if audio_s else None,
        server_playback_frames=int(delta("playback_frames_total")),
        server_playback_frames_late=int(delta("playback_frames_late_total")),
        server_wire_errors=int(delta("wire_errors_total")),
        # During the run (deltas); the maxima are the server process's, start-up included.
        server_loop_stalls=int(delta("event_loop_stalls_total")),
        server_gc_pauses_over_20ms=int(delta("gc_pauses_over_20ms_total")),
        server_gc={f"gen{n}": {"collections": int(delta(f"gc_gen{n}_collections_total")),
                               "pause_s": round(delta(f"gc_gen{n}_pause_seconds_total"), 4)}
                   for n in range(3)},
        server_process_max_ms={"loop_lag": m1.get("ivr_event_loop_lag_max_ms"),
                               "gc_gen2_pause": m1.get("ivr_gc_gen2_pause_max_ms")},
        resources=asdict(resources) if resources is not None else None,
        machine={"cpus": psutil.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform()},
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    summary.update(stagger_s=args.stagger_s, rasa_servers=config.rasa.servers,
                   warmup_server_stages_ms=stage_summary([r.record for r in solo if r.record]))
    write_results(args.out, summary)
    return 0 if summary["calls_completed"] == summary["calls"] else 1
