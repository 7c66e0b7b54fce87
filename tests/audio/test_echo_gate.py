"""The barge-in gate: the bot's own echo never counts as the caller; a real caller talking over
the bot does, within a few frames. Real signals (espeak-ng bot, real human callers) through the
real canceller, plus scripted level sequences for the rules themselves."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.audio.echo_gate import FLOOR_DB, EchoGate, GateConfig, level_db
from ivr.sim.echo import EchoSpec
from tests.audio.echo_signals import RATE, at_level, max_run, pcm, run_call

CALLERS = ["zh01", "zh05", "zh06", "zh07", "zh08", "en01", "en03", "en06", "en07", "en16"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("level_db", "delay_ms"),
                         [(-25, 60), (-25, 200), (-15, 60), (-10, 120), (-6, 60),
                          (-25, 350), (-25, 450)])
def test_the_bots_own_echo_is_never_the_caller(
    bot_prompts: dict[str, np.ndarray], lang: str, level_db: float, delay_ms: int
) -> None:
    """Echo 350-450 ms late is beyond the canceller's 300 ms filter: the gate still explains
    it (with a 300 ms gate tail, 17-30 false caller frames per prompt, runs of up to 17)."""
    run = run_call(bot_prompts[lang], spec=EchoSpec(level_db=level_db, delay_ms=delay_ms),
                   tail_s=1.0)
    flags = run.caller_flags
    assert max_run(flags) <= 1, f"{flags.sum()} caller frames, longest run {max_run(flags)}"
    assert flags.sum() <= 2


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("before_ms", "after_ms"), [(60, 140), (100, 220), (200, 80)])
def test_a_change_of_echo_delay_is_not_the_caller(
    bot_prompts: dict[str, np.ndarray], lang: str, before_ms: int, after_ms: int
) -> None:
    """Mid-prompt the echo path's delay changes (network jitter, a busy phone or server): the
    canceller has to re-learn the path and its residual rises to the echo's own level for a
    while. Before the gate also checked the raw line, this gave 167-190 false caller frames
    per case, in runs of 26-33 (over half a second: a barge-in on the bot's own words)."""
    bot = np.concatenate([bot_prompts[lang]] * 2)
    run = run_call(bot, spec=EchoSpec(level_db=-25, delay_ms=before_ms),
                   delay_change=(len(bot) / RATE / 2, after_ms))
    flags = run.caller_flags
    assert max_run(flags) <= 1, f"{flags.sum()} caller frames, longest run {max_run(flags)}"
    assert flags.sum() <= 2


@pytest.mark.parametrize("clip", CALLERS)
@pytest.mark.parametrize(("echo_db", "caller_dbfs", "at_s"),
                         [(-25, -26, 1.5), (-25, -33, 0.7), (-25, -33, 3.0),
                          (-80, -26, 1.5), (-80, -33, 1.5), (-80, -33, 3.0)])
def test_a_caller_talking_over_the_bot_is_heard_quickly(
    bot_prompts: dict[str, np.ndarray], callers_8k: dict[str, np.ndarray], clip: str,
    caller_dbfs: float, at_s: float, echo_db: float,
) -> None:
    """A caller at an ordinary telephone level (−26 dBFS active; the bot plays at about −21)
    or 12 dB quieter than the bot interrupts the prompt, early (the canceller has barely
    started) or late, with the bot's echo at −25 dB: at least 3 caller frames within 300 ms of
    the first voiced frame, and the 250 ms of caller speech a barge-in needs within 500 ms
    (measured: 260 ms median, 300 ms p90). The same on a line without echo (−80 dB), where
    only silence teaches the gate its levels — from 0.6 s of bot audio on (before that the
    silence may only precede a delayed echo), so in a call's first second of bot audio a quiet
    caller on such a line may not be heard (by default that second is the uninterruptible
    opening)."""
    bot = bot_prompts["zh" if clip.startswith("zh") else "en"]
    caller = at_level(callers_8k[clip], caller_dbfs)
    run = run_call(bot, caller, caller_at_s=at_s, spec=EchoSpec(level_db=echo_db))
    onset = int(np.nonzero(run.caller_levels > -45)[0][0])
    before = int(at_s * 1000) // 20  # frames before the caller's clip begins: echo and noise
    assert not run.caller_flags[:before].any(), "caller frames before the caller spoke"
    window = run.caller_flags[onset : onset + 15]
    assert window.sum() >= 3, f"{window.sum()} caller frames in the first 300 ms"
    assert run.caller_flags[onset : onset + 25].sum() >= 13


def test_without_bot_audio_every_voiced_frame_is_the_caller(
    callers_8k: dict[str, np.ndarray],
) -> None:
    caller = at_level(callers_8k["en01"], -26)
    run = run_call(np.zeros(160), caller, caller_at_s=0.5)
    loud = np.array([g.out_db > -45 for g in run.gate])
    assert loud.sum() > 50
    assert run.caller_flags[loud].all()
    assert not any(g.bot_active for g in run.gate)


def test_level_db() -> None:
    assert level_db(b"") == FLOOR_DB
    assert level_db(bytes(320)) == FLOOR_DB
    full = pcm(np.full(160, 32767.0))
    assert level_db(full) == pytest.approx(0.0, abs=0.01)
    assert level_db(pcm(np.full(160, 3277.0))) == pytest.approx(-20.0, abs=0.05)


# ---- the rules, with scripted levels (dBFS per 20 ms frame) ---------------------------------


def _feed(gate: EchoGate, frames: list[tuple[float, float, float]]) -> list[bool]:
    return [gate.update_levels(mic, ref, out).caller for mic, ref, out in frames]


def test_prior_echo_level_until_enough_bot_audio_was_seen() -> None:
    cfg = GateConfig(min_learn_frames=5, prior_echo_db=-12.0, margin_db=6.0)
    gate = EchoGate(cfg)
    # The bot plays at -20; residual at -30 is 10 dB below: within the prior (-12 + 6).
    assert _feed(gate, [(-30, -20, -30)] * 4) == [False] * 4
    assert gate.echo_level_db == -12.0
    # Learned: echo sits 40 dB under the reference.
    _feed(gate, [(-45, -20, -60)] * 250)
    assert gate.echo_level_db == pytest.approx(-40.0)
    # Now a residual 20 dB under the reference is the caller (the line 15 dB above the echo).
    assert _feed(gate, [(-30, -20, -40)]) == [True]


def test_a_canceller_that_lost_the_echo_path_is_not_double_talk() -> None:
    """The echo path's delay changed (a jitter buffer re-synced): the canceller's residual
    jumps to the echo's own level, but the line is no louder than the echo path makes it."""
    gate = EchoGate(GateConfig(min_learn_frames=5, margin_db=6.0))
    _feed(gate, [(-45, -20, -60)] * 50)  # echo return -25 dB, residual -40 dB
    assert gate.return_level_db == pytest.approx(-25.0)
    assert _feed(gate, [(-45, -20, -46)] * 50) == [False] * 50
    # The caller talking over the bot raises the line itself.
    assert _feed(gate, [(-30, -20, -31)]) == [True]


def test_silence_before_a_delayed_echo_arrives_teaches_nothing() -> None:
    gate = EchoGate(GateConfig(tail_ms=400, min_learn_frames=5, prior_echo_db=-12.0))
    _feed(gate, [(FLOOR_DB, -20, FLOOR_DB)] * 20)  # the bot plays; no echo on the line yet
    assert (gate.echo_level_db, gate.return_level_db) == (-12.0, None)
    # When the echo arrives (15 dB under the bot) it is not mistaken for the caller, and it is
    # what the gate learns.
    assert not any(_feed(gate, [(-35, -20, -36)] * 30))
    assert gate.echo_level_db == pytest.approx(-16.0)
    assert gate.return_level_db == pytest.approx(-15.0)


def test_a_line_without_echo_hears_a_quiet_caller_over_the_bot() -> None:
    gate = EchoGate(GateConfig(tail_ms=400, min_learn_frames=5))
    _feed(gate, [(FLOOR_DB, -20, FLOOR_DB)] * 40)  # the bot plays; silence stays silence
    assert gate.echo_level_db < -60 and (gate.return_level_db or 0.0) < -60
    # A caller 16 dB under the bot's envelope is the caller.
    assert _feed(gate, [(-36, -20, -36)] * 3) == [True] * 3


def test_double_talk_does_not_teach_the_echo_level() -> None:
    gate = EchoGate(GateConfig(min_learn_frames=5, margin_db=6.0))
    _feed(gate, [(-45, -20, -60)] * 50)
    learned = gate.echo_level_db
    flags = _feed(gate, [(-25, -20, -26)] * 100)  # 2 s of the caller talking over the bot
    assert all(flags)
    assert gate.echo_level_db == pytest.approx(learned)


def test_hangover_keeps_weak_frames_of_double_talk() -> None:
    gate = EchoGate(GateConfig(min_learn_frames=5, margin_db=6.0, hangover_ms=100,
                               initial_floor_dbfs=-80.0))
    _feed(gate, [(-45, -20, -60)] * 50)  # echo 40 dB under the bot; noise floor near -77
    # A strong caller frame, then weaker ones that alone would pass for echo, then silence.
    flags = _feed(gate, [(-25, -20, -25)] + [(-40, -20, -60)] * 7 + [(-45, -20, -90)])
    assert flags == [True] * 6 + [False] * 3


def test_echo_tail_keeps_the_bot_audible_after_it_stops() -> None:
    gate = EchoGate(GateConfig(tail_ms=100, min_learn_frames=1, margin_db=6.0))
    _feed(gate, [(-45, -20, -60)] * 30)
    # The bot stopped; its echo still arrives for up to tail_ms (5 frames).
    frames = [gate.update_levels(-50, FLOOR_DB, -62) for _ in range(6)]
    assert [f.bot_active for f in frames] == [True] * 4 + [False] * 2
    assert not any(f.caller for f in frames[:4])


def test_noise_floor_follows_the_line() -> None:
    gate = EchoGate(GateConfig(initial_floor_dbfs=-65.0, floor_rise_db_per_s=3.0))
    _feed(gate, [(-80, FLOOR_DB, -80)])
    assert gate.noise_floor_db == -80.0
    # Steady noise at -50 for 10 s: the floor climbs 3 dB/s (and never above the noise).
    _feed(gate, [(-50, FLOOR_DB, -50)] * 500)
    assert gate.noise_floor_db == pytest.approx(-50.0)
    # Speech has to rise above the floor + noise margin.
    assert _feed(gate, [(-45, FLOOR_DB, -45)]) == [False]
    assert _feed(gate, [(-35, FLOOR_DB, -35)]) == [True]
