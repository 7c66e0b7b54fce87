"""``ivr test-dialogues``: run fixture scripts through the phone simulator against a running
server and compare each call's record with the script's ``expect`` block."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.sim.line import SimResult
from ivr.sim.phone import PhoneSimulator, SimOptions
from ivr.sim.providers import Phone
from ivr.sim.script import CallScript, load_script

COUNTERS = ("barge_ins", "no_input", "no_match", "turns")
DETAIL_KEYS = ("rating", "offer", "identity_verified", "feedback", "queue_result")
SUBSET_KEYS = ("confirmed_fields", "corrections", "faq_topics")


@dataclass
class DialogueOutcome:
    script: CallScript
    result: SimResult
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def latencies(self) -> list[float]:
        return [t.latency_ms for t in self.result.turns if t.latency_ms is not None]


def find_scripts(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        else:
            found.extend(sorted(path.rglob("script.yaml")))
    return found


def check(script: CallScript, result: SimResult) -> list[str]:
    """Every way the call differed from what the script expects (empty when it matched)."""
    expect = script.expect
    problems = list(result.errors)
    record = result.record
    if result.refused:
        return [*problems, "call refused by the server"]
    if record is None:
        return [*problems, "no call record"]
    details: dict[str, Any] = record.get("details") or {}
    turns = record.get("turns") or []

    def differ(what: str, want: Any, got: Any) -> None:
        if want != got:
            problems.append(f"{what}: expected {want!r}, got {got!r}")

    if "outcome" in expect:
        differ("outcome", expect["outcome"], record.get("outcome"))
    if "heard" in expect:
        heard = [t["text"] for t in turns if t["role"] == "caller"]
        want = expect["heard"]
        if len(want) != len(heard) or any(w not in ("*", h) for w, h in zip(want, heard,
                                                                          strict=False)):
            problems.append(f"heard: expected {want!r}, got {heard!r}")
    for key in ("escalation_reason", "escalation_priority"):
        if key in expect:
            differ(key, expect[key], record.get(key))
    counters = record.get("counters") or {}
    for key in COUNTERS:
        if key in expect:
            differ(key, expect[key], counters.get(key))
    for key in DETAIL_KEYS:
        if key in expect:
            differ(key, expect[key], details.get(key))
    for key in SUBSET_KEYS:
        if key in expect:
            missing = set(expect[key]) - set(details.get(key) or [])
            if missing:
                problems.append(f"{key}: missing {sorted(missing)} in {details.get(key)!r}")
    if expect.get("reward") and not details.get("reward"):
        problems.append("reward: expected one to be granted, none recorded")
    bot_text = " ".join(t["text"] for t in turns if t["role"] == "bot")
    for phrase in expect.get("bot_says") or []:
        if phrase not in bot_text:
            problems.append(f"bot never said {phrase!r}")
    for phrase in expect.get("bot_never_says") or []:
        if phrase in bot_text:
            problems.append(f"bot said {phrase!r}, which it must not")
    script_turns = script.turns
    for timing in result.turns:
        more = script_turns[timing.index] if timing.index < len(script_turns) else None
        if more is not None and more.pause_ms is not None:
            continue  # the answer goes on after a pause: no reply expected in between
        if timing.kind in ("speech", "dtmf") and timing.latency_ms is None:
            problems.append(f"no bot reply heard after caller turn {timing.index}")
    return problems


async def run_dialogues(scripts: Sequence[CallScript], options: SimOptions,
                        concurrency: int = 10, phone: Phone | None = None
                        ) -> list[DialogueOutcome]:
    """Run every script (``phone``: the provider path, Twilio's by default)."""
    sim: Phone = phone or PhoneSimulator(options)
    gate = asyncio.Semaphore(concurrency)

    async def one(script: CallScript) -> DialogueOutcome:
        async with gate:
            result = await sim.call(script)
        return DialogueOutcome(script, result, check(script, result))

    return list(await asyncio.gather(*(one(s) for s in scripts)))


def table(outcomes: Sequence[DialogueOutcome]) -> str:
    rows = [("scenario", "expected", "got", "turn latencies ms", "result")]
    for o in outcomes:
        record = o.result.record or {}
        want = str(o.script.expect.get("outcome", "-"))
        got = str(record.get("outcome", "refused" if o.result.refused else "-"))
        lat = " ".join(f"{v:.0f}" for v in o.latencies) or "-"
        rows.append((o.script.name, want, got, lat, "ok" if o.ok else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    for o in outcomes:
        lines.extend(f"  {o.script.name}: {m}" for m in o.mismatches)
    passed = sum(1 for o in outcomes if o.ok)
    lines.append(f"{passed} passed, {len(outcomes) - passed} failed")
    return "\n".join(lines)


def load_all(paths: Iterable[Path]) -> list[CallScript]:
    return [load_script(p) for p in find_scripts(paths)]
