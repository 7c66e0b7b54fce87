"""The simulator's line: echo of the played bot audio into the caller's track, barge-in timing
on the media clock (counted in 20 ms ticks, not wall time)."""

from __future__ import annotations

import numpy as np

from ivr.audio.mulaw import ulaw_to_pcm16
from ivr.sim.echo import EchoPath, EchoSpec
from ivr.sim.line import PCM_FRAME, SILENCE, Line, SimResult, TurnTiming


class FakeWire:
    def __init__(self, line: Line, frames: int) -> None:
        self.line = line
        self.frames = frames
        self.sent: list[bytes] = []
        self.played_calls = 0

    async def send_audio(self, ulaw: bytes) -> None:
        self.sent.append(ulaw)
        if len(self.sent) >= self.frames:
            self.line.closed.set()

    async def send_dtmf(self, digit: str) -> None: ...

    async def send_raw(self, raw: str) -> None: ...

    async def hangup(self) -> None: ...

    async def audio_played(self, line: Line) -> None:
        self.played_calls += 1


def _tone(frames: int, amplitude: float = 8000.0) -> bytes:
    t = np.arange(frames * 160) / 8000
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


async def test_bot_audio_leaks_back_delayed_and_attenuated() -> None:
    line = Line(echo=EchoPath(EchoSpec(level_db=-20, delay_ms=40, response_ms=1), 8000))
    wire = FakeWire(line, 12)
    result = SimResult("c")
    line.bot_audio(_tone(10), result)
    await line.run_clock(wire, result)
    caller = [np.frombuffer(ulaw_to_pcm16(f), dtype="<i2").astype(float) for f in wire.sent]
    levels = [10 * np.log10(np.mean(f * f) + 1) for f in caller]
    bot_level = 10 * np.log10(np.mean(np.frombuffer(_tone(1), dtype="<i2").astype(float) ** 2))
    assert max(levels[:2]) < 10  # silence (μ-law idle) before the echo arrives
    assert abs(np.median(levels[3:10]) - (bot_level - 20)) < 1.5
    assert result.bot_frames == 10 and line.played == 10 * PCM_FRAME
    assert wire.played_calls == 12
    assert line.rec_bot[: 10 * PCM_FRAME] == bytearray(_tone(10))


async def test_without_echo_the_caller_track_is_untouched() -> None:
    line = Line()
    wire = FakeWire(line, 5)
    result = SimResult("c")
    line.bot_audio(_tone(5), result)
    await line.run_clock(wire, result)
    assert wire.sent == [SILENCE] * 5
    assert result.greeting_ms is not None


async def test_barge_in_stop_is_timed_on_the_media_clock() -> None:
    line = Line()
    wire = FakeWire(line, 20)
    result = SimResult("c")
    timing = TurnTiming(1, "speech", "x", barge_in=True)
    line.barge, line.barge_onset = timing, 5
    line.bot_audio(_tone(10), result)  # the bot stops after 10 frames (the IVR's clear)
    await line.run_clock(wire, result)
    assert timing.barge_stop_ms == (11 - 5) * 20
    assert line.barge is None


async def test_clear_drops_unplayed_audio() -> None:
    line = Line()
    result = SimResult("c")
    line.bot_audio(_tone(10), result)
    line.clear()
    assert not line.play and line.received == 0


async def test_a_server_hanging_up_mid_turn_is_reported_not_raised() -> None:
    from ivr.core.types import Language
    from ivr.sim.script import CallerTurn, CallScript
    from ivr.sim.turns import Pacing, drive_script

    class Gone(FakeWire):
        async def send_dtmf(self, digit: str) -> None:
            raise ConnectionResetError("closing transport")

    line = Line()
    line.turn_bot_frames, line.last_bot_audio = 1, 0.0
    result = SimResult("c")
    script = CallScript("t", Language.ZH, (CallerTurn(digits="12"), CallerTurn(say="x")))
    await drive_script(Gone(line, 1), script, line, result, Pacing(quiet_ms=0))
    assert result.errors == ["server hung up during caller turn 1"]
