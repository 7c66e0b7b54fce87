"""Process-wide counters for the metrics endpoint and the benchmark (Prometheus text format)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.asr.base import AsrResult, RecognizerStream


@dataclass
class Metrics:
    calls_started: int = 0
    calls_ended: int = 0
    calls_refused: int = 0
    wire_errors: int = 0
    streams_refused: int = 0
    media_breaches: int = 0
    id_lockouts: int = 0
    barge_ins: int = 0
    playback_frames: int = 0
    playback_frames_late: int = 0
    asr_audio_s: float = 0.0
    asr_decode_s: float = 0.0
    turn_latency_ms: list[float] = field(default_factory=list)
    # Event-loop lag and garbage-collection figures (ivr.loop_watch.LoopWatch.gauges).
    process_figures: Callable[[], dict[str, float]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_asr(self, audio_s: float, decode_s: float) -> None:
        with self._lock:
            self.asr_audio_s += audio_s
            self.asr_decode_s += decode_s

    @property
    def asr_rtf(self) -> float | None:
        return self.asr_decode_s / self.asr_audio_s if self.asr_audio_s else None

    def render(self, gauges: dict[str, float]) -> str:
        lines: list[str] = []

        def put(name: str, value: float, kind: str = "counter") -> None:
            lines.append(f"# TYPE ivr_{name} {kind}")
            lines.append(f"ivr_{name} {value}")

        put("calls_started_total", self.calls_started)
        put("calls_ended_total", self.calls_ended)
        put("calls_refused_total", self.calls_refused)
        put("wire_errors_total", self.wire_errors)
        put("streams_refused_total", self.streams_refused)
        put("media_breaches_total", self.media_breaches)
        put("id_lockouts_total", self.id_lockouts)
        put("barge_ins_total", self.barge_ins)
        put("playback_frames_total", self.playback_frames)
        put("playback_frames_late_total", self.playback_frames_late)
        put("asr_audio_seconds_total", round(self.asr_audio_s, 3))
        put("asr_decode_seconds_total", round(self.asr_decode_s, 3))
        for name, value in gauges.items():
            put(name, value, "gauge")
        if self.process_figures is not None:
            for name, value in self.process_figures().items():
                put(name, value, "counter" if name.endswith("_total") else "gauge")
        lat = sorted(self.turn_latency_ms)
        if lat:
            for q in (0.5, 0.95):
                lines.append(f'ivr_turn_latency_ms{{quantile="{q}"}} '
                             f"{lat[min(len(lat) - 1, int(q * len(lat)))]:.1f}")
        return "\n".join(lines) + "\n"


class TimedStream:
    """Wraps a recognizer stream to account decoding time against audio time (ASR RTF)."""

    def __init__(self, inner: RecognizerStream, metrics: Metrics, sample_rate: int,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self._inner = inner
        self._metrics = metrics
        self._rate = sample_rate
        self._clock = clock

    def accept(self, pcm16: bytes) -> AsrResult | None:
        started = self._clock()
        result = self._inner.accept(pcm16)
        self._metrics.add_asr(len(pcm16) / 2 / self._rate, self._clock() - started)
        return result

    def finish(self) -> AsrResult:
        started = self._clock()
        result = self._inner.finish()
        self._metrics.add_asr(0.0, self._clock() - started)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
