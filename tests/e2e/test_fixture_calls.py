"""Every recorded-audio fixture under audio/fixtures, called through the real stack at once
(10 concurrent calls), then checked against the script's expected result."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.sim.phone import PhoneSimulator, SimOptions, SimResult
from ivr.sim.script import CallScript, load_script
from tests.e2e.conftest import AUTH_TOKEN, ROOT, Server

pytestmark = pytest.mark.e2e

SCRIPTS = sorted((ROOT / "audio" / "fixtures").rglob("script.yaml"))
IDS = [str(p.parent.relative_to(ROOT / "audio" / "fixtures")) for p in SCRIPTS]


@pytest.fixture(scope="module")
def results(server: Server) -> dict[str, tuple[CallScript, SimResult]]:
    sim = PhoneSimulator(SimOptions(base_url=server.url, auth_token=AUTH_TOKEN))
    scripts = [load_script(p) for p in SCRIPTS]

    async def run_all() -> list[SimResult]:
        return await asyncio.gather(*(sim.call(s) for s in scripts))

    done = asyncio.run(run_all())
    return {name: (s, r) for name, s, r in zip(IDS, scripts, done, strict=True)}


def test_there_are_fixtures_in_both_languages() -> None:
    langs = {Path(i).parts[0] for i in IDS}
    assert {"zh", "en"} <= langs
    assert len(IDS) >= 10


@pytest.mark.parametrize("name", IDS)
def test_fixture_call(name: str, results: dict[str, tuple[CallScript, SimResult]],
                      server: Server) -> None:
    script, result = results[name]
    expect = script.expect
    context = f"{name}: {result.errors}\n{server.log_tail(30)}"
    assert not result.refused, context
    assert not result.errors, context
    record = result.record
    assert record is not None, context
    assert record["outcome"] == expect["outcome"], context
    heard = [t["text"] for t in record["turns"] if t["role"] == "caller"]
    assert heard == expect.get("heard", []), context
    bot = [t for t in record["turns"] if t["role"] == "bot"]
    assert bot and all(t["text"] for t in bot), "the bot said something every turn"
    if "escalation_reason" in expect:
        assert record["escalation_reason"] == expect["escalation_reason"]
    for counter in ("barge_ins", "no_input", "no_match"):
        if counter in expect:
            assert record["counters"][counter] == expect[counter], context
    if expect.get("barge_ins"):
        assert result.clears >= 1, "the server sent clear to stop its prompt"
    speech_turns = [t for t in result.turns if t.kind in ("speech", "dtmf")]
    for timing in speech_turns:
        assert timing.latency_ms is not None, f"no bot reply heard after turn {timing.index}"
    assert result.frames_late == 0 or result.frames_late < result.frames_sent * 0.01
    assert record["from_masked"] != "+8613812345678", "caller number is masked"
