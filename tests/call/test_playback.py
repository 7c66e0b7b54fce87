"""Paced bot audio on a virtual clock: frames of the channel's size at real-time pace (a lead
of 60 ms), turns reported started and finished by the pace (no provider marks), barge-in cuts,
the byte-bounded queue, the echo reference, late frames."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from ivr.audio.reference import PlayedAudio
from ivr.call import events as e
from ivr.call.playback import Playback
from tests.call.fake_clock import FakeClock

RATE = 8000
FRAME = 320  # 20 ms of PCM16 at 8 kHz


def audio(ms: int, value: int = 1000) -> bytes:
    return struct.pack("<h", value) * (RATE * ms // 1000)


@dataclass
class Rig:
    clock: FakeClock
    playback: Playback
    played: PlayedAudio
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    events: list[e.AudioStarted | e.AudioFinished] = field(default_factory=list)
    send_delay: float = 0.0

    def reported(self) -> list[tuple[str, int, float]]:
        return [(type(ev).__name__, ev.seq, round(ev.at - 100.0, 3)) for ev in self.events]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = FakeClock()
    played = PlayedAudio(RATE)
    holder: list[Rig] = []

    async def send(frame: bytes) -> None:
        holder[0].frames.append((clock.now(), frame))
        if holder[0].send_delay:
            await clock.sleep_until(clock.now() + holder[0].send_delay)

    pb = Playback(send, rate=RATE, frame_ms=20, clock=clock, played=played,
                  report=lambda ev: holder[0].events.append(ev), max_bytes=FRAME * 50)
    holder.append(Rig(clock, pb, played))
    task = asyncio.create_task(pb.run())
    yield holder[0]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_frames_are_the_audio_in_channel_frames_with_the_tail_padded(rig: Rig) -> None:
    await rig.playback.enqueue(1, audio(50, 7))
    rig.playback.end(1)
    await rig.clock.advance(1.0)
    assert [len(f) for _, f in rig.frames] == [FRAME] * 3
    assert b"".join(f for _, f in rig.frames) == audio(50, 7) + bytes(FRAME // 2)


async def test_turn_finishes_when_its_last_frame_has_played(rig: Rig) -> None:
    await rig.playback.enqueue(1, audio(1000))
    rig.playback.end(1)
    assert rig.playback.busy
    await rig.clock.advance(0.99)
    assert rig.reported() == [("AudioStarted", 1, 0.0)]
    await rig.clock.advance(0.02)
    assert rig.reported()[-1] == ("AudioFinished", 1, 1.0)
    assert not rig.playback.busy


async def test_pace_is_real_time_with_a_60_ms_lead(rig: Rig) -> None:
    await rig.playback.enqueue(1, audio(2000))
    rig.playback.end(1)
    await rig.clock.advance(0.5)
    sent_by = len([t for t, _ in rig.frames if t <= 100.5])
    assert sent_by == (500 + 60) // 20 + 1
    gaps = [b - a for (a, _), (b, _) in zip(rig.frames[3:], rig.frames[4:], strict=False)]
    assert all(abs(g - 0.02) < 1e-9 for g in gaps)


async def test_back_to_back_turns_keep_the_pace(rig: Rig) -> None:
    await rig.playback.enqueue(1, audio(200))
    rig.playback.end(1)
    await rig.playback.enqueue(2, audio(200))
    rig.playback.end(2)
    await rig.clock.advance(1.0)
    assert rig.reported() == [("AudioStarted", 1, 0.0), ("AudioStarted", 2, 0.14),
                              ("AudioFinished", 1, 0.2), ("AudioFinished", 2, 0.4)]


async def test_cut_drops_everything_begun_and_queued(rig: Rig) -> None:
    rig.playback.begin(3)  # still being synthesized
    await rig.playback.enqueue(1, audio(2000))
    rig.playback.end(1)
    await rig.playback.enqueue(2, audio(500))
    rig.playback.end(2)
    await rig.clock.advance(0.3)
    rig.playback.cut()
    sent = len(rig.frames)
    assert {ev.seq for ev in rig.events if isinstance(ev, e.AudioFinished)} == {1, 2, 3}
    await rig.playback.enqueue(3, audio(500))  # the rest of the cut turn never plays
    rig.playback.end(3)
    await rig.playback.enqueue(4, audio(100))  # a new turn does
    rig.playback.end(4)
    await rig.clock.advance(1.0)
    assert len(rig.frames) == sent + 5
    kind, seq, at = rig.reported()[-1]
    assert (kind, seq) == ("AudioFinished", 4) and 0.4 <= at <= 0.42  # within one frame
    assert [ev.seq for ev in rig.events if isinstance(ev, e.AudioFinished)].count(3) == 1


async def test_an_empty_or_failed_turn_still_finishes(rig: Rig) -> None:
    rig.playback.end(5, error="tts_failed")
    await rig.clock.advance(0.1)
    assert rig.events == [e.AudioFinished(100.0, 5, "tts_failed")]


async def test_queue_is_bounded_in_bytes(rig: Rig) -> None:
    await rig.playback.enqueue(1, audio(1000))  # playing
    await rig.clock.settle()
    await rig.playback.enqueue(1, audio(1000))  # queued: 16000 bytes, the 50-frame bound
    blocked = asyncio.create_task(rig.playback.enqueue(1, audio(100)))
    await rig.clock.settle()
    assert not blocked.done()
    await rig.clock.advance(2.0)
    assert blocked.done()


async def test_echo_reference_holds_each_frame_at_its_play_time(rig: Rig) -> None:
    await rig.playback.enqueue(1, audio(100, 5) + audio(100, 9))
    rig.playback.end(1)
    await rig.clock.advance(1.0)
    assert rig.played.reference(FRAME, 100.02) == audio(20, 5)
    assert rig.played.reference(FRAME, 100.2) == audio(20, 9)
    assert rig.played.reference(FRAME, 100.5) == bytes(FRAME)


async def test_a_slow_channel_makes_late_frames(rig: Rig) -> None:
    rig.send_delay = 0.05  # every send takes 50 ms: the pace cannot be held
    await rig.playback.enqueue(1, audio(1000))
    rig.playback.end(1)
    await rig.clock.advance(3.0)
    assert rig.playback.stats.frames_late > 10
    rig2_late = rig.playback.stats.frames_late
    assert rig2_late <= rig.playback.stats.frames_sent


@pytest.mark.parametrize(("lead_ms", "late"), [(60, True), (200, False)])
async def test_a_lead_rides_out_a_stall_shorter_than_it(lead_ms: int, late: bool) -> None:
    """One send stalls 150 ms (a busy server moment): with audio 200 ms ahead (Twilio's buffer)
    no frame reaches the phone after its play time; with 60 ms some do."""
    clock = FakeClock()
    stalls = [0.15]
    sent: list[float] = []

    async def send(frame: bytes) -> None:
        sent.append(clock.now())
        if len(sent) == 20 and stalls:
            await clock.sleep_until(clock.now() + stalls.pop())

    pb = Playback(send, rate=RATE, frame_ms=20, clock=clock, played=PlayedAudio(RATE),
                  report=lambda ev: None, lead_ms=lead_ms)
    task = asyncio.create_task(pb.run())
    try:
        await pb.enqueue(1, audio(2000))
        pb.end(1)
        await clock.advance(3.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert pb.stats.frames_sent == 100
    assert (pb.stats.frames_late > 0) is late, pb.stats
