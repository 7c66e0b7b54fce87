"""The benchmark's summary: latencies classified by the question they answered."""

from __future__ import annotations

from ivr.bench.calls import summarize, turn_latencies
from ivr.bench.stages import reply_stages, stage_summary
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


def test_stages_of_a_reply_come_from_the_record() -> None:
    record = {"turns": [
        {"role": "bot", "source": "dialogue", "latency_ms": None},
        {"role": "caller", "source": "speech", "expectation": "digits", "asr_ms": 40.0},
        {"role": "bot", "source": "dialogue", "dialogue_ms": 120.0, "tts_ms": 60.0,
         "latency_ms": 420.0},
        {"role": "caller", "source": "dtmf", "expectation": "yes_no"},
        {"role": "bot", "source": "dialogue", "dialogue_ms": 90.0, "latency_ms": None},
        {"role": "caller", "source": "speech", "expectation": "yes_no", "asr_ms": 30.0},
    ]}
    stages = reply_stages(record)
    assert stages == [("digits", {"asr_ms": 40.0, "dialogue_ms": 120.0, "tts_ms": 60.0,
                                  "latency_ms": 420.0, "endpoint_and_other_ms": 200.0})]
    summary = stage_summary([record, record])
    assert summary["digits"]["endpoint_and_other_ms"]["p50"] == 200.0
    assert summary["all"]["latency_ms"]["n"] == 2


def test_barge_ins_the_script_did_not_make_are_counted() -> None:
    genuine = call([300], ["yes_no"], 100)
    genuine.turns[0].barge_in, genuine.turns[0].barge_stop_ms = True, 180.0
    genuine.record = {**(genuine.record or {}), "counters": {"barge_ins": 1},
                      "outcome": "completed"}
    echoed = call([300], ["yes_no"], 100)  # no barge-in scripted, the IVR counted two
    echoed.record = {**(echoed.record or {}), "counters": {"barge_ins": 2}, "outcome": "failed"}
    stuck = call([300], ["yes_no"], 100)
    stuck.turns[0].barge_in = True  # the bot never stopped
    summary = summarize([genuine, echoed, stuck], 5.0, 3, expected_outcome="completed")
    assert summary["barge_ins"] == {"scripted": 2, "counted_by_ivr": 3, "unscripted": 2,
                                    "never_stopped": 1,
                                    "stop_ms": {"n": 1, "p50": 180.0, "p95": 180.0,
                                                "max": 180.0}}
    assert summary["outcome_as_scripted"] == 1
