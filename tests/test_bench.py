"""The benchmark's summary: latencies classified by the question they answered."""

from __future__ import annotations

from ivr.bench.calls import summarize, turn_latencies
from ivr.bench.stats import pct, spread
from ivr.sim.phone import SimResult, TurnTiming


def call(latencies: list[float], expectations: list[str], answer_ms: float) -> SimResult:
    result = SimResult("CA1", greeting_ms=answer_ms - 30, answer_ms=answer_ms)
    result.turns = [TurnTiming(i + 1, "speech", "x", latency_ms=v)
                    for i, v in enumerate(latencies)]
    result.turns.append(TurnTiming(9, "dtmf", "1", latency_ms=100.0))  # keyed: not counted
    result.record = {"turns": [
        {"role": "bot", "source": "dialogue"},
        *({"role": "caller", "source": "speech", "expectation": x} for x in expectations),
        {"role": "caller", "source": "dtmf", "expectation": "yes_no"},
    ]}
    return result


def test_latencies_go_to_the_question_they_answered() -> None:
    results = [call([300, 500, 900], ["yes_no", "digits", "open"], 120),
               call([350, 450, 800], ["yes_no", "rating", "open"], 180)]
    by_kind, unmatched = turn_latencies(results)
    assert by_kind == {"yes_no": [300, 350], "digits": [500], "rating": [450],
                       "open": [900, 800]}
    assert unmatched == 0
    summary = summarize(results, 10.0, 2)
    assert summary["turn_latency_ms"]["closed"]["n"] == 4
    assert summary["turn_latency_ms"]["all"]["max"] == 900
    assert summary["answer_to_first_greeting_audio_ms"]["p95"] == 180


def test_a_call_whose_record_does_not_match_is_counted_apart() -> None:
    result = call([300, 500], ["yes_no"], 100)
    by_kind, unmatched = turn_latencies([result])
    assert unmatched == 2 and by_kind == {"unknown": [300, 500]}


def test_percentiles() -> None:
    assert pct([], 0.5) is None
    assert pct([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert spread([5.0, 1.0])["max"] == 5.0
