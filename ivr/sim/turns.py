"""The script driver of the phone simulator: says each caller turn once the bot has finished
speaking (or ``barge_in_ms`` into its speech), over any provider's :class:`Wire`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ivr.sim.line import Line, SimResult, TurnTiming, Wire, ulaw_frames
from ivr.sim.script import CallerTurn, CallScript
from ivr.sim.wavio import read_wav_8k, voiced_span_ms


@dataclass(frozen=True)
class Pacing:
    quiet_ms: int = 700
    turn_timeout_s: float = 60.0


async def _bot_done(line: Line, pacing: Pacing) -> bool:
    """Wait until the bot has spoken and gone quiet; False if the server hung up."""
    deadline = time.monotonic() + pacing.turn_timeout_s
    while time.monotonic() < deadline and not line.closed.is_set():
        quiet = (time.monotonic() - line.last_bot_audio) * 1000
        if (line.turn_bot_frames and not line.play and not line.marks
                and quiet >= pacing.quiet_ms):
            return True
        await asyncio.sleep(0.02)
    return not line.closed.is_set()


async def _bot_spoke(line: Line, ms: int, pacing: Pacing) -> bool:
    deadline = time.monotonic() + pacing.turn_timeout_s
    while time.monotonic() < deadline and not line.closed.is_set():
        if line.turn_bot_frames * 20 >= ms:
            return True
        await asyncio.sleep(0.01)
    return False


async def _drained(line: Line) -> None:
    """Wait until the clock has sent every queued caller frame (or the call ended)."""
    while line.outgoing and not line.closed.is_set():  # noqa: ASYNC110 - polled on the 20 ms clock
        await asyncio.sleep(0.02)


async def drive_script(wire: Wire, script: CallScript, line: Line, result: SimResult,
                       pacing: Pacing,
                       before_turn: Callable[[int], Awaitable[None]] | None = None) -> None:
    """Say the script's turns, each after the bot finished speaking (or into its speech)."""
    for index, turn in enumerate(script.turns):
        if line.closed.is_set():
            result.errors.append(f"server hung up before caller turn {index + 1}")
            return
        if turn.barge_in_ms is not None:
            if not await _bot_spoke(line, turn.barge_in_ms, pacing):
                result.errors.append(f"turn {index + 1}: bot never spoke for barge-in")
        elif turn.pause_ms is not None:
            await asyncio.sleep(turn.pause_ms / 1000)  # mid-answer: the bot stays quiet
        elif (index > 0 or not script.outbound) and not await _bot_done(line, pacing):
            result.errors.append(f"turn {index + 1}: bot did not finish speaking")
        if before_turn is not None:
            await before_turn(index)
        try:
            for raw in turn.raw:
                await wire.send_raw(raw)
            if turn.hangup:
                result.ended_by = "caller"
                await wire.hangup()
                return
            await _act(wire, index, turn, line, result)
        except ConnectionError:
            result.errors.append(f"server hung up during caller turn {index + 1}")
            return
    await _bot_done(line, pacing)
    if not line.closed.is_set():
        try:
            await asyncio.wait_for(line.closed.wait(), pacing.turn_timeout_s)
        except TimeoutError:
            result.ended_by = "caller"


async def _act(wire: Wire, index: int, turn: CallerTurn, line: Line, result: SimResult) -> None:
    timing = TurnTiming(index + 1, "silence", "", barge_in=turn.barge_in_ms is not None)
    line.turn_bot_frames = 0
    if turn.silence_ms:
        if turn.wav is None:  # a pause before speech is part of the speech turn
            result.turns.append(timing)
        await asyncio.sleep(turn.silence_ms / 1000)
    if turn.wav is not None:
        pcm = read_wav_8k(turn.wav)
        frames = ulaw_frames(pcm)
        start_ms, end_ms = voiced_span_ms(pcm)
        last = max(0, min(len(frames), end_ms // 20) - 1)
        timing.kind, timing.said = "speech", turn.say or turn.wav.name
        line.reference = None
        line.awaiting = timing
        if timing.barge_in and line.play:
            line.barge = timing
            line.barge_onset = line.ticks + len(line.outgoing) + start_ms // 20 + 1
        line.outgoing.extend((f, i == last) for i, f in enumerate(frames))
        result.turns.append(timing)
        await _drained(line)
    if turn.digits:
        timing = TurnTiming(index + 1, "dtmf", turn.digits)
        result.turns.append(timing)
        for i, digit in enumerate(turn.digits):
            if i == len(turn.digits) - 1:
                line.awaiting = timing
                line.reference = time.monotonic()
            await wire.send_dtmf(digit)
            await asyncio.sleep(0.15)
    line.turn_bot_frames = 0
    line.last_bot_audio = time.monotonic()
