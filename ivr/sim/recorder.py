"""Turns a live call into a dialogue fixture (``audio/fixtures/README.md``).

:class:`TurnRecorder` follows the call clock tick by tick — the 20 ms caller frame that was sent
and whether bot audio was played — and cuts the caller's utterances with the project's VAD and
endpointer (the same ones the server runs, on the same 8 kHz audio). :func:`match_turns` pairs
the caller turns of the server's call record with those utterances, and :func:`write_fixture`
writes ``01.wav``, ``02.wav``… (the exact 8 kHz audio the server heard, 16-bit mono) and a
``script.yaml`` whose replay by the phone simulator repeats the call: each turn is spoken after
the bot finished (plus the caller's pause, ``silence_ms``) or ``barge_in_ms`` into the bot's
audio, as it happened live.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr.audio.endpoint import EndpointConfig, Endpointer, EndpointEventType
from ivr.audio.mulaw import ulaw_to_pcm16
from ivr.audio.vad import Vad
from ivr.core.audio import TELEPHONY_RATE
from ivr.core.types import Language
from ivr.sim.fixtures import render_key
from ivr.sim.wavio import write_wav

TICK_MS = 20
PCM_TICK = TELEPHONY_RATE * TICK_MS // 1000 * 2


@dataclass
class Utterance:
    """One caller utterance, in call-clock ticks (tick ``n`` covers ``[20n, 20n+20)`` ms)."""

    start: int  # first tick of the cut, pre-roll included
    end: int  # one past the last tick of the cut, post-roll included
    decided: int  # tick at which the endpointer ended it
    pcm: bytes = b""
    barge_in_ms: int | None = None
    silence_ms: int = 0


@dataclass
class Hangup:
    tick: int
    barge_in_ms: int | None = None


@dataclass
class TurnRecorder:
    """Cuts caller utterances out of the call audio; see the module doc."""

    vad: Vad
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    pre_roll_ms: int = 200
    post_roll_ms: int = 300
    quiet_ms: int = 700  # the phone simulator's "bot has finished speaking"

    def __post_init__(self) -> None:
        if self.post_roll_ms > self.endpoint.end_silence_ms:
            raise ValueError("post_roll_ms must not exceed the endpointer's end_silence_ms")
        self._endpointer = Endpointer(self.endpoint)
        self._pcm = bytearray()
        self._bot: list[bool] = []
        self._start: int | None = None
        self.utterances: list[Utterance] = []
        self.hangup: Hangup | None = None

    @property
    def ticks(self) -> int:
        return len(self._bot)

    def tick(self, caller_ulaw: bytes, bot_played: bool) -> None:
        """Report one tick of the call clock."""
        pcm = ulaw_to_pcm16(caller_ulaw.ljust(PCM_TICK // 2, b"\xff")[: PCM_TICK // 2])
        n = len(self._bot)
        self._pcm += pcm
        self._bot.append(bot_played)
        for event in self._endpointer.update(self.vad.is_speech(pcm), (n + 1) * TICK_MS):
            if event.type is EndpointEventType.SPEECH_START:
                assert event.speech_start_ms is not None
                self._start = event.speech_start_ms // TICK_MS
            elif event.type in (EndpointEventType.SPEECH_END, EndpointEventType.MAX_LENGTH):
                assert event.last_voiced_ms is not None and self._start is not None
                last = -(-event.last_voiced_ms // TICK_MS)  # one past the last voiced tick
                self._cut(self._start, last, n + 1)
                self._start = None
                self._endpointer.reset()

    def _cut(self, first_voiced: int, last_voiced_end: int, decided: int) -> None:
        prev_end = self.utterances[-1].end if self.utterances else 0
        start = max(prev_end, first_voiced - self.pre_roll_ms // TICK_MS)
        end = min(decided, last_voiced_end + self.post_roll_ms // TICK_MS)
        utt = Utterance(start, end, decided, bytes(self._pcm[start * PCM_TICK : end * PCM_TICK]))
        utt.barge_in_ms, utt.silence_ms = self._timing(prev_end, start)
        self.utterances.append(utt)

    def _since(self, prev_end: int, now: int) -> tuple[int, int | None, int]:
        """Bot audio between two ticks: (ms played, tick at which the simulator would call the
        bot finished — ``quiet_ms`` after its last audio — or None, ticks since its last
        audio)."""
        bot = self._bot[prev_end:now]
        quiet_ticks = self.quiet_ms // TICK_MS
        done: int | None = None
        run: int | None = None  # quiet ticks since the bot's last audio (None: not spoken yet)
        for i, played in enumerate(bot):
            run = 0 if played else (None if run is None else run + 1)
            if done is None and run is not None and run >= quiet_ticks:
                done = prev_end + i + 1
        since_audio = run if run is not None else len(bot)
        return sum(bot) * TICK_MS, done, since_audio

    def _timing(self, prev_end: int, start: int) -> tuple[int | None, int]:
        """How the simulator must time a turn starting at ``start``: (barge_in_ms, silence_ms).

        The simulator speaks a turn once the bot has spoken and then been quiet ``quiet_ms``,
        then waits ``silence_ms``; with ``barge_in_ms`` it waits only until the bot has played
        that much audio since the previous turn (then ``silence_ms``)."""
        bot_ms, done, since_audio = self._since(prev_end, start)
        if bot_ms == 0:  # the bot said nothing since the previous turn: no need to wait
            return 0, (start - prev_end) * TICK_MS
        if done is None:  # spoke over the bot, or before it had been quiet for quiet_ms
            return bot_ms, since_audio * TICK_MS
        return None, (start - done) * TICK_MS

    def hang_up(self) -> None:
        """The caller hangs up now; an utterance still in progress is dropped."""
        prev_end = self.utterances[-1].end if self.utterances else 0
        bot_ms, done, _ = self._since(prev_end, self.ticks)
        self.hangup = Hangup(self.ticks, bot_ms if done is None else None)


def match_turns(utterances: Sequence[Utterance], seen: Sequence[int],
                tolerance_ticks: int = 25) -> list[int | None]:
    """For each server caller turn (the tick it was first seen in the call record), the index
    of the utterance it came from, or None.

    A turn can only come from an utterance that ended (``decided``) before the turn was seen
    (``tolerance_ticks`` allows for small VAD differences); the latest such utterance wins, and
    turns stay in order. Utterances the server did not answer (spoken while it was busy) are
    left out. Worked backwards so that turns seen in the same poll get consecutive
    utterances."""
    out: list[int | None] = [None] * len(seen)
    limit = len(utterances)
    for k in range(len(seen) - 1, -1, -1):
        for j in range(limit - 1, -1, -1):
            if utterances[j].decided <= seen[k] + tolerance_ticks:
                out[k] = j
                limit = j
                break
    return out


def build_script(
    *,
    name: str,
    lang: Language,
    customer: dict[str, str],
    record: dict[str, Any],
    utterances: Sequence[Utterance],
    matched: Sequence[int | None],
    hangup: Hangup | None,
    description: str = "",
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The ``script.yaml`` content and the WAV files (name, 8 kHz PCM) for a recorded call."""
    callers = [t for t in record.get("turns", []) if t.get("role") == "caller"]
    turns: list[dict[str, Any]] = []
    wavs: list[tuple[str, bytes]] = []
    for turn, index in zip(callers, matched, strict=True):
        if index is None:
            continue
        utt = utterances[index]
        wav = f"{len(wavs) + 1:02d}.wav"
        wavs.append((wav, utt.pcm))
        entry: dict[str, Any] = {"say": str(turn.get("text", "")), "wav": wav}
        if utt.barge_in_ms is not None:
            entry["barge_in_ms"] = utt.barge_in_ms
        if utt.silence_ms:
            entry["silence_ms"] = utt.silence_ms
        turns.append(entry)
    if hangup is not None:
        entry = {"hangup": True}
        if hangup.barge_in_ms is not None:
            entry["barge_in_ms"] = hangup.barge_in_ms
        turns.append(entry)
    expect: dict[str, Any] = {"outcome": record.get("outcome"),
                              "heard": [str(t.get("text", "")) for t in callers]}
    if record.get("escalation_reason"):
        expect["escalation_reason"] = record["escalation_reason"]
    script: dict[str, Any] = {"name": name}
    if description:
        script["description"] = description
    script.update(lang=lang.value, customer=dict(customer), turns=turns, expect=expect)
    return script, wavs


def write_fixture(folder: Path, script: dict[str, Any], wavs: Sequence[tuple[str, bytes]]) -> Path:
    """Write the WAVs and ``script.yaml``; returns the script's path.

    ``.render.json`` stamps the recordings as up to date, so ``ivr fixtures`` does not replace
    them with synthesized speech (unless ``--force``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, pcm in wavs:
        write_wav(folder / name, pcm, rate=TELEPHONY_RATE)
    lang = Language(script["lang"])
    stamps = {t["wav"]: render_key(t["say"], lang) for t in script["turns"]
              if t.get("wav") and t.get("say") is not None}
    (folder / ".render.json").write_text(json.dumps(stamps, indent=1, sort_keys=True) + "\n",
                                         encoding="utf-8")
    path = folder / "script.yaml"
    path.write_text(yaml.safe_dump(script, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path

