"""Process-wide counters in Prometheus text format, and ASR real-time-factor accounting."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.asr.vosk_engine import VoskEngine
from ivr.core.audio import ASR_RATE
from ivr.core.types import Expectation, Language
from ivr.metrics import Metrics, TimedStream

TINY_ZH = Path(__file__).resolve().parents[2] / "shared" / "models" / "tiny-zh"
SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)\})? (?P<value>\S+)$'
)
TYPE = re.compile(r"^# TYPE (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?P<kind>counter|gauge|summary|"
                  r"histogram|untyped)$")


def parse(text: str) -> tuple[dict[str, str], dict[str, float]]:
    """A strict reading of the Prometheus text exposition format (version 0.0.4)."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    types: dict[str, str] = {}
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            match = TYPE.match(line)
            assert match, f"bad comment line {line!r}"
            assert match["name"] not in types, f"TYPE given twice for {match['name']}"
            assert not any(s.split("{")[0] == match["name"] for s in samples), \
                "TYPE after samples"
            types[match["name"]] = match["kind"]
            continue
        match = SAMPLE.match(line)
        assert match, f"bad sample line {line!r}"
        key = match["name"] + (f"{{{match['labels']}}}" if match["labels"] else "")
        assert key not in samples, f"duplicate sample {key}"
        samples[key] = float(match["value"])
    for name, kind in types.items():
        if kind == "counter":
            assert name.endswith("_total"), name
    return types, samples


def test_fresh_metrics_render_zeroes() -> None:
    types, samples = parse(Metrics().render({}))
    assert types == {
        "ivr_calls_started_total": "counter",
        "ivr_calls_ended_total": "counter",
        "ivr_calls_refused_total": "counter",
        "ivr_wire_errors_total": "counter",
        "ivr_streams_refused_total": "counter",
        "ivr_media_breaches_total": "counter",
        "ivr_id_lockouts_total": "counter",
        "ivr_barge_ins_total": "counter",
        "ivr_playback_frames_total": "counter",
        "ivr_playback_frames_late_total": "counter",
        "ivr_asr_audio_seconds_total": "counter",
        "ivr_asr_decode_seconds_total": "counter",
    }
    assert set(samples) == set(types) and all(v == 0 for v in samples.values())
    assert Metrics().asr_rtf is None


def test_counters_gauges_and_latency_quantiles() -> None:
    m = Metrics(calls_started=7, calls_ended=5, calls_refused=1, wire_errors=2, barge_ins=3,
                playback_frames=1500, playback_frames_late=4)
    m.add_asr(2.0, 0.5)
    m.add_asr(1.0, 0.25)
    m.turn_latency_ms.extend(float(v) for v in range(100, 0, -1))  # 1..100, unsorted
    types, samples = parse(m.render({"active_calls": 2.0, "ready": 1.0}))
    assert samples["ivr_calls_started_total"] == 7
    assert samples["ivr_calls_ended_total"] == 5
    assert samples["ivr_calls_refused_total"] == 1
    assert samples["ivr_wire_errors_total"] == 2
    assert samples["ivr_barge_ins_total"] == 3
    assert samples["ivr_playback_frames_total"] == 1500
    assert samples["ivr_playback_frames_late_total"] == 4
    assert samples["ivr_asr_audio_seconds_total"] == 3.0
    assert samples["ivr_asr_decode_seconds_total"] == 0.75
    assert types["ivr_active_calls"] == types["ivr_ready"] == "gauge"
    assert samples["ivr_active_calls"] == 2 and samples["ivr_ready"] == 1
    p50 = samples['ivr_turn_latency_ms{quantile="0.5"}']
    p95 = samples['ivr_turn_latency_ms{quantile="0.95"}']
    assert 50 <= p50 <= 51
    assert 95 <= p95 <= 96
    assert m.asr_rtf == pytest.approx(0.25)


def test_single_latency_is_every_quantile() -> None:
    m = Metrics()
    m.turn_latency_ms.append(812.34)
    _, samples = parse(m.render({}))
    assert samples['ivr_turn_latency_ms{quantile="0.5"}'] == 812.3
    assert samples['ivr_turn_latency_ms{quantile="0.95"}'] == 812.3


def test_no_latency_lines_without_turns() -> None:
    assert "turn_latency" not in Metrics().render({})


def test_asr_seconds_are_rounded_to_milliseconds() -> None:
    m = Metrics()
    m.add_asr(1.23456, 0.0004)
    _, samples = parse(m.render({}))
    assert samples["ivr_asr_audio_seconds_total"] == 1.235
    assert samples["ivr_asr_decode_seconds_total"] == 0.0


def test_add_asr_is_thread_safe() -> None:
    m = Metrics()

    def work() -> None:
        for _ in range(5000):
            m.add_asr(0.02, 0.001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.asr_audio_s == pytest.approx(8 * 5000 * 0.02)
    assert m.asr_decode_s == pytest.approx(8 * 5000 * 0.001)


class StepClock:
    """Each reading advances by ``step`` seconds (decode time without depending on the CPU)."""

    def __init__(self, step: float) -> None:
        self._ticks: Iterator[float] = (i * step for i in range(10**9))

    def __call__(self) -> float:
        return next(self._ticks)


@pytest.fixture(scope="module")
def engine() -> VoskEngine:
    if not TINY_ZH.is_dir():
        pytest.skip(f"tiny Vosk model not found at {TINY_ZH}")
    return VoskEngine({Language.ZH: TINY_ZH})


def test_timed_stream_accounts_audio_and_decode_time(engine: VoskEngine) -> None:
    metrics = Metrics()
    inner = engine.open_stream(Language.ZH, Expectation.YES_NO, ASR_RATE)
    timed = TimedStream(inner, metrics, ASR_RATE, clock=StepClock(0.001))
    chunk = bytes(640)  # 20 ms of 16 kHz silence
    for _ in range(50):
        assert timed.accept(chunk) is None  # silence: no partial
    assert metrics.asr_audio_s == pytest.approx(1.0)
    assert metrics.asr_decode_s == pytest.approx(0.05)
    final = timed.finish()
    assert final.is_final and final.text == ""
    assert metrics.asr_audio_s == pytest.approx(1.0)
    assert metrics.asr_decode_s == pytest.approx(0.051)
    assert metrics.asr_rtf == pytest.approx(0.051)
    # Other attributes pass through to the wrapped stream.
    assert timed.grammar == inner.grammar and timed.grammar


def test_timed_stream_with_the_real_clock(engine: VoskEngine) -> None:
    metrics = Metrics()
    timed = TimedStream(engine.open_stream(Language.ZH, Expectation.OPEN, ASR_RATE), metrics,
                        ASR_RATE)
    timed.accept(bytes(32000))
    timed.finish()
    assert metrics.asr_audio_s == pytest.approx(1.0)
    assert 0 < metrics.asr_decode_s < 1.0
