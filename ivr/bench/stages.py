"""Where a turn's latency goes, from the server's own call records: for each spoken answer,
the recognizer's finishing time (``asr_ms``, after the end of speech was decided), the
dialogue's reply time, the time to the first synthesized audio, and the server-measured
latency from the caller's last voiced frame to the first bot audio. What is left
(``endpoint_and_other_ms``) is the end-of-answer silence plus anything between the stages
(the ID check, queueing on the event loop)."""

from __future__ import annotations

from typing import Any

from ivr.bench.stats import spread

STAGES = ("asr_ms", "dialogue_ms", "tts_ms", "latency_ms", "endpoint_and_other_ms")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def reply_stages(record: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """(expectation, stage → ms) per spoken caller answer followed by a timed bot reply."""
    out: list[tuple[str, dict[str, float]]] = []
    turns = record.get("turns") or []
    for index, turn in enumerate(turns):
        if turn.get("role") != "caller" or turn.get("source") != "speech":
            continue
        reply = next((t for t in turns[index + 1:] if t.get("role") == "bot"), None)
        if reply is None or reply.get("latency_ms") is None:
            continue
        stages = {"asr_ms": _number(turn.get("asr_ms")),
                  "dialogue_ms": _number(reply.get("dialogue_ms")),
                  "tts_ms": _number(reply.get("tts_ms")),
                  "latency_ms": _number(reply.get("latency_ms"))}
        known = {k: v for k, v in stages.items() if v is not None}
        if "latency_ms" in known:
            known["endpoint_and_other_ms"] = round(known["latency_ms"] - sum(
                v for k, v in known.items() if k != "latency_ms"), 1)
        out.append((str(turn.get("expectation") or "unknown"), known))
    return out


def stage_summary(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per expectation (and ``all``): the spread of every stage."""
    values: dict[str, dict[str, list[float]]] = {}
    for record in records:
        for kind, stages in reply_stages(record):
            for group in (kind, "all"):
                per_stage = values.setdefault(group, {})
                for stage, ms in stages.items():
                    per_stage.setdefault(stage, []).append(ms)
    return {kind: {stage: spread(per_stage.get(stage, [])) for stage in STAGES}
            for kind, per_stage in sorted(values.items())}
