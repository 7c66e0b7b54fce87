"""``ivr call``: one simulated call, transcript and timings printed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ivr.config import Config
from ivr.core.types import Language
from ivr.sim.echo import EchoSpec
from ivr.sim.phone import SimOptions, SimResult
from ivr.sim.providers import phone_for
from ivr.sim.script import CallerTurn, CallScript, load_script
from ivr.sim.wavio import write_wav


def echo_spec(args: argparse.Namespace) -> EchoSpec | None:
    """``--echo-db``/``--echo-delay-ms`` → the simulated echo path (None without echo)."""
    level = getattr(args, "echo_db", None)
    if level is None:
        return None
    return EchoSpec(level_db=float(level), delay_ms=int(getattr(args, "echo_delay_ms", 60)))


def options_from_config(config: Config, url: str | None,
                        echo: EchoSpec | None = None) -> SimOptions:
    return SimOptions(
        base_url=url or config.server.public_url,
        public_url=config.server.public_url,
        auth_token=config.twilio.auth_token or "insecure-dev",
        api_token=config.server.api_token,
        echo=echo,
    )


def describe(result: SimResult) -> str:
    lines = [f"call {result.call_sid}: ended by {result.ended_by} after "
             f"{result.duration_s:.1f} s"]
    if result.refused:
        lines.append("refused by the server (TwiML without a media stream)")
    if result.greeting_ms is not None:
        lines.append(f"first greeting audio {result.greeting_ms:.0f} ms after stream start")
    record = result.record or {}
    for turn in record.get("turns", []):
        who = "caller" if turn.get("role") == "caller" else "bot   "
        extra = []
        if turn.get("latency_ms") is not None:
            extra.append(f"latency {turn['latency_ms']:.0f} ms")
        if turn.get("barge_in"):
            extra.append("barge-in")
        suffix = f"  ({', '.join(extra)})" if extra else ""
        lines.append(f"  {who}: {turn.get('text', '')}{suffix}")
    for timing in result.turns:
        if timing.latency_ms is not None:
            lines.append(f"  caller turn {timing.index} ({timing.kind} {timing.said!r}): "
                         f"reply after {timing.latency_ms:.0f} ms")
        if timing.barge_stop_ms is not None:
            lines.append(f"  caller turn {timing.index}: the bot stopped "
                         f"{timing.barge_stop_ms:.0f} ms after the caller started (media clock)")
    lines.append(f"outcome: {record.get('outcome')}; frames sent {result.frames_sent}, "
                 f"late {result.frames_late}, bot frames {result.bot_frames}, "
                 f"marks echoed {result.marks_echoed}, clears {result.clears}")
    lines.extend(f"problem: {e}" for e in result.errors)
    return "\n".join(lines)


def result_json(result: SimResult) -> dict[str, Any]:
    return {
        "call_sid": result.call_sid, "refused": result.refused, "ended_by": result.ended_by,
        "greeting_ms": result.greeting_ms, "duration_s": result.duration_s,
        "turns": [t.__dict__ for t in result.turns], "frames_sent": result.frames_sent,
        "frames_late": result.frames_late, "clears": result.clears,
        "errors": result.errors, "record": result.record,
    }


async def run_call(args: argparse.Namespace, config: Config) -> int:
    if args.script:
        script = load_script(Path(args.script))
    else:
        turns = tuple(CallerTurn(say=Path(w).stem, wav=Path(w)) for w in args.say)
        script = CallScript(name="adhoc", lang=Language(args.lang), turns=turns)
    options = options_from_config(config, args.url, echo_spec(args))
    async with phone_for(getattr(args, "provider", "twilio"), options, config) as phone:
        result = await phone.call(script)
    if args.record and result.recording:
        write_wav(Path(args.record), result.recording, channels=2)
    print(json.dumps(result_json(result), ensure_ascii=False, indent=1) if args.json
          else describe(result))
    return 0 if not result.errors else 1
