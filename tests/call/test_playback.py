"""Paced outbound audio through a sink that writes the real Twilio wire messages."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.call.playback import FRAME_BYTES, FRAME_MS, Playback, stop_task
from ivr.telephony.twilio_media import TwilioMediaCodec

STREAM_SID = "MZ00000000000000000000000000000000"
RATE = 8000


def tone(ms: int, freq: float = 440.0, amp: int = 8000) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    return (amp * np.sin(2 * math.pi * freq * t)).astype("<i2").tobytes()


@dataclass
class WireSink:
    """Like the web layer's sink: encodes with the Twilio codec, records (time, message)."""

    media_delay_s: float = 0.0
    slow_frames: set[int] = field(default_factory=set)
    sent: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    codec: TwilioMediaCodec = field(default_factory=TwilioMediaCodec)
    updated: asyncio.Event = field(default_factory=asyncio.Event)
    _media_count: int = 0

    async def _send(self, raw: str) -> None:
        await asyncio.sleep(0)  # a socket write yields to the loop
        self.sent.append((time.monotonic(), json.loads(raw)))
        self.updated.set()

    async def send_media(self, ulaw: bytes) -> None:
        self._media_count += 1
        if self._media_count in self.slow_frames:
            await asyncio.sleep(self.media_delay_s)
        await self._send(self.codec.media(STREAM_SID, ulaw))

    async def send_mark(self, name: str) -> None:
        await self._send(self.codec.mark(STREAM_SID, name))

    async def send_clear(self) -> None:
        await self._send(self.codec.clear(STREAM_SID))

    def events(self) -> list[str]:
        return [m["event"] if m["event"] != "mark" else "mark:" + m["mark"]["name"]
                for _, m in self.sent]

    def media(self) -> list[tuple[float, bytes]]:
        return [(t, base64.b64decode(m["media"]["payload"]))
                for t, m in self.sent if m["event"] == "media"]

    async def wait_for(self, event: str, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while event not in self.events():
                self.updated.clear()
                await self.updated.wait()


@pytest.fixture
def sink() -> WireSink:
    return WireSink()


@pytest.fixture
async def playback(sink: WireSink) -> AsyncIterator[Playback]:
    pb = Playback(sink)
    task = asyncio.create_task(pb.run())
    yield pb
    await stop_task(task)


async def test_frames_are_160_byte_ulaw_of_the_audio_then_a_mark(
    playback: Playback, sink: WireSink
) -> None:
    pcm = tone(400)
    await playback.enqueue_audio(pcm, interruptible=True, turn=1)
    name = await playback.enqueue_mark(interruptible=True)
    assert name == "p1"
    await sink.wait_for("mark:p1")
    assert all(m["streamSid"] == STREAM_SID for _, m in sink.sent)
    frames = [payload for _, payload in sink.media()]
    assert len(frames) == 400 // FRAME_MS == 20
    assert all(len(f) == 160 for f in frames)
    assert b"".join(frames) == pcm16_to_ulaw(pcm)
    assert sink.events() == ["media"] * 20 + ["mark:p1"]
    assert playback.stats.frames_sent == 20


async def test_short_tail_is_padded_with_silence(playback: Playback, sink: WireSink) -> None:
    pcm = tone(25)  # one full frame + 5 ms
    await playback.enqueue_audio(pcm, interruptible=True, turn=1)
    await playback.enqueue_mark(interruptible=True)
    await sink.wait_for("mark:p1")
    frames = [payload for _, payload in sink.media()]
    assert len(frames) == 2 and all(len(f) == 160 for f in frames)
    tail = ulaw_to_pcm16(frames[1])
    assert tail[: len(pcm) - FRAME_BYTES] == ulaw_to_pcm16(pcm16_to_ulaw(pcm[FRAME_BYTES:]))
    assert set(tail[len(pcm) - FRAME_BYTES :]) == {0}


async def test_real_time_pacing(playback: Playback, sink: WireSink) -> None:
    await playback.enqueue_audio(tone(1200), interruptible=True, turn=1)
    await playback.enqueue_mark(interruptible=True)
    await sink.wait_for("mark:p1")
    times = [t for t, _ in sink.media()]
    assert len(times) == 60
    # After the lead (a few frames sent at once) frames go out every 20 ms.
    steady = times[10:]
    rate_ms = (steady[-1] - steady[0]) / (len(steady) - 1) * 1000
    assert rate_ms == pytest.approx(FRAME_MS, rel=0.03)
    # The whole 1.2 s of audio takes about 1.2 s minus the 60 ms lead: never faster.
    assert times[-1] - times[0] == pytest.approx(1.2 - 0.06 - 0.02, abs=0.05)
    # Never ahead of real time by more than the lead.
    for i, t in enumerate(times):
        assert t - times[0] >= i * FRAME_MS / 1000 - 0.06 - 0.005
    assert playback.stats.frames_late == 0


async def test_back_to_back_prompts_keep_the_pace(playback: Playback, sink: WireSink) -> None:
    for turn in (1, 1):
        await playback.enqueue_audio(tone(300), interruptible=True, turn=turn)
        await playback.enqueue_mark(interruptible=True)
    await sink.wait_for("mark:p2")
    assert sink.events() == ["media"] * 15 + ["mark:p1"] + ["media"] * 15 + ["mark:p2"]
    times = [t for t, _ in sink.media()]
    assert times[-1] - times[0] == pytest.approx(0.6 - 0.06 - 0.02, abs=0.05)


async def test_idle_only_after_the_provider_echoes_the_last_mark(
    playback: Playback, sink: WireSink
) -> None:
    assert not playback.speaking
    await asyncio.wait_for(playback.wait_idle(), 0.1)
    await playback.enqueue_audio(tone(100), interruptible=True, turn=1)
    assert playback.speaking
    first = await playback.enqueue_mark(interruptible=True)
    await playback.enqueue_audio(tone(100), interruptible=True, turn=1)
    second = await playback.enqueue_mark(interruptible=True)
    await sink.wait_for(f"mark:{second}")
    await asyncio.sleep(0.05)
    assert playback.speaking, "sent is not heard: idle waits for the mark echo"
    playback.on_mark(first)
    assert playback.speaking
    playback.on_mark(second)
    assert not playback.speaking
    await asyncio.wait_for(playback.wait_idle(), 0.1)


async def test_echo_of_a_later_mark_implies_earlier_ones(
    playback: Playback, sink: WireSink
) -> None:
    await playback.enqueue_audio(tone(60), interruptible=True, turn=1)
    await playback.enqueue_mark(interruptible=True)
    await playback.enqueue_audio(tone(60), interruptible=True, turn=1)
    await playback.enqueue_mark(interruptible=True)
    await sink.wait_for("mark:p2")
    playback.on_mark("p2")
    assert not playback.speaking


async def test_stale_mark_echo_after_clear_does_not_end_the_next_prompt(
    playback: Playback, sink: WireSink
) -> None:
    await playback.enqueue_audio(tone(60), interruptible=True, turn=1)
    old = await playback.enqueue_mark(interruptible=True)
    await sink.wait_for(f"mark:{old}")
    await playback.interrupt()
    await playback.enqueue_audio(tone(200), interruptible=True, turn=2)
    new = await playback.enqueue_mark(interruptible=True)
    await sink.wait_for(f"mark:{new}")
    # Twilio echoes the marks of cleared audio; that echo can arrive late.
    playback.on_mark(old)
    assert playback.speaking
    playback.on_mark(new)
    assert not playback.speaking


async def test_interrupt_sends_clear_drops_queue_and_goes_idle(
    playback: Playback, sink: WireSink
) -> None:
    await playback.enqueue_audio(tone(2000), interruptible=True, turn=1)
    await playback.enqueue_mark(interruptible=True)
    await playback.enqueue_audio(tone(2000, freq=880), interruptible=True, turn=1)
    await playback.enqueue_mark(interruptible=True)
    await asyncio.sleep(0.2)
    sent_before = len(sink.media())
    await playback.interrupt()
    assert not playback.speaking
    await asyncio.wait_for(playback.wait_idle(), 0.1)
    assert playback.stats.clears == 1
    await asyncio.sleep(0.2)
    events = sink.events()
    assert events.count("clear") == 1
    assert "media" not in events[events.index("clear") + 1 :], "no audio after clear"
    assert not any(e.startswith("mark") for e in events), "queued marks are dropped"
    assert 8 <= sent_before <= 20
    assert len(sink.media()) <= sent_before + 1
    assert playback.stats.frames_sent == len(sink.media())
    # Playback keeps working for the next turn.
    await playback.enqueue_audio(tone(100), interruptible=True, turn=2)
    name = await playback.enqueue_mark(interruptible=True)
    await sink.wait_for(f"mark:{name}")
    after = sink.events()[events.index("clear") + 1 :]
    assert after == ["media"] * 5 + [f"mark:{name}"]


async def test_interrupt_when_idle_still_clears(playback: Playback, sink: WireSink) -> None:
    await playback.interrupt()
    await asyncio.sleep(0.01)
    assert sink.events() == ["clear"]
    assert not playback.speaking


async def test_interruptible_reflects_the_prompt_being_heard(
    playback: Playback, sink: WireSink
) -> None:
    assert playback.interruptible
    await playback.enqueue_audio(tone(300), interruptible=False, turn=1)
    notice = await playback.enqueue_mark(interruptible=False)
    await playback.enqueue_audio(tone(300), interruptible=True, turn=1)
    question = await playback.enqueue_mark(interruptible=True)
    await asyncio.sleep(0.1)
    assert playback.interruptible is False  # the notice is being sent
    await sink.wait_for(f"mark:{notice}")
    await asyncio.sleep(0.05)
    # The question is being sent, but the caller still hears the buffered notice.
    assert playback.interruptible is False
    playback.on_mark(notice)
    assert playback.interruptible is True
    await sink.wait_for(f"mark:{question}")
    assert playback.interruptible is True
    playback.on_mark(question)
    assert playback.interruptible is True and not playback.speaking


async def test_first_frame_callback_once_per_turn(sink: WireSink) -> None:
    calls: list[tuple[int, float]] = []
    pb = Playback(sink, on_first_frame=lambda turn, at: calls.append((turn, at)))
    task = asyncio.create_task(pb.run())
    try:
        for turn in (1, 1, 2):
            await pb.enqueue_audio(tone(100), interruptible=True, turn=turn)
        await pb.enqueue_mark(interruptible=True)
        await sink.wait_for("mark:p1")
    finally:
        await stop_task(task)
    assert [turn for turn, _ in calls] == [1, 2]
    media_times = [t for t, _ in sink.media()]
    assert calls[0][1] <= media_times[0] < calls[0][1] + 0.02
    assert calls[1][1] <= media_times[10] < calls[1][1] + 0.02


async def test_slow_socket_counts_late_frames(sink: WireSink) -> None:
    sink.media_delay_s = 0.12
    sink.slow_frames = {10, 20}
    pb = Playback(sink)
    task = asyncio.create_task(pb.run())
    try:
        await pb.enqueue_audio(tone(600), interruptible=True, turn=1)
        await pb.enqueue_mark(interruptible=True)
        await sink.wait_for("mark:p1")
    finally:
        await stop_task(task)
    assert pb.stats.frames_sent == 30
    assert 2 <= pb.stats.frames_late <= 8


async def test_bounded_queue_applies_back_pressure(sink: WireSink) -> None:
    pb = Playback(sink, max_items=2)
    await pb.enqueue_audio(tone(20), interruptible=True, turn=1)
    await pb.enqueue_audio(tone(20), interruptible=True, turn=1)
    blocked = asyncio.create_task(pb.enqueue_audio(tone(20), interruptible=True, turn=1))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    task = asyncio.create_task(pb.run())
    try:
        await asyncio.wait_for(blocked, 1)
        await pb.enqueue_mark(interruptible=True)
        await sink.wait_for("mark:p1")
    finally:
        await stop_task(task)
    assert len(sink.media()) == 3


async def test_stop_task_cancels_run(sink: WireSink) -> None:
    pb = Playback(sink)
    task = asyncio.create_task(pb.run())
    await pb.enqueue_audio(tone(1000), interruptible=True, turn=1)
    await asyncio.sleep(0.05)
    await stop_task(task)
    assert task.cancelled()
    count = len(sink.media())
    await asyncio.sleep(0.1)
    assert len(sink.media()) == count
    await stop_task(None)
