"""Per-call media bounds (pure buckets with time passed in; the bounded channel over a fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ivr.call.limits import (
    BoundedChannel,
    Breach,
    MediaBudget,
    MediaLimits,
    SocketGate,
    TokenBucket,
)
from ivr.telephony.media import AudioIn, DigitIn, MediaEvent, MediaStart, StreamEnded, WireProblem

RATE_8K = 16000.0  # PCM16 bytes per second at 8 kHz
FRAME = 320  # 20 ms


def test_bucket_refills_at_its_rate_up_to_capacity() -> None:
    bucket = TokenBucket.full(10, 20, now=0)
    assert bucket.take(20, 0) and not bucket.take(1, 0)
    assert bucket.take(10, 1.0) and not bucket.take(1, 1.0)
    assert bucket.take(20, 100.0) and not bucket.take(1, 100.0)


def test_real_time_audio_passes_for_an_hour() -> None:
    budget = MediaBudget(MediaLimits(), RATE_8K, now=0)
    for i in range(3600 * 50):
        t = i * 0.02
        assert budget.message(t) is None
        assert budget.audio(FRAME, t) is None


def test_a_network_stall_then_catch_up_is_accepted() -> None:
    budget = MediaBudget(MediaLimits(burst_s=5), RATE_8K, now=0)
    for i in range(100):  # 2 s late, then 2 s of frames at once
        assert budget.audio(FRAME, 10 + i * 0.001) is None


def test_faster_than_real_time_is_a_breach() -> None:
    budget = MediaBudget(MediaLimits(burst_s=5, rate_slack=1.25), RATE_8K, now=0)
    breaches = [budget.audio(FRAME, i * 0.01) for i in range(2000)]  # 2x real time for 20 s
    first = breaches.index(Breach.MEDIA_RATE)
    assert 5 * 50 < first < 20 * 50


def test_one_big_frame_and_message_floods() -> None:
    budget = MediaBudget(MediaLimits(max_frame_ms=200, messages_per_s=10, burst_s=1),
                         RATE_8K, 0)
    assert budget.audio(3200, 0) is None and budget.audio(3202, 0) is Breach.MEDIA_FRAME
    assert [budget.message(0) for _ in range(11)][-1] is Breach.MESSAGE_RATE


def test_wire_error_flood_and_dtmf_rate() -> None:
    budget = MediaBudget(MediaLimits(max_wire_errors=8, dtmf_per_s=10), RATE_8K, now=0)
    assert [budget.wire_error() for _ in range(8)][-1] is Breach.WIRE_ERRORS
    assert sum(budget.dtmf(0) for _ in range(30)) == 20
    assert budget.dtmf(0.2)


def test_socket_gate() -> None:
    gate = SocketGate(2)
    assert gate.enter() and gate.enter() and not gate.enter()
    gate.leave()
    assert gate.enter()


class FakeChannel:
    provider = "fake"

    def __init__(self, events: list[MediaEvent]) -> None:
        self._events = events
        self.closed = False

    async def start(self) -> MediaStart:
        return MediaStart("CA1", 8000, 20)

    async def events(self) -> AsyncIterator[MediaEvent]:
        for event in self._events:
            yield event
        yield StreamEnded("stop")

    async def send_audio(self, pcm: bytes) -> None: ...

    async def clear(self) -> None: ...

    async def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _run(events: list[MediaEvent], limits: MediaLimits) -> tuple[list[MediaEvent], bool]:
    inner = FakeChannel(events)
    channel = BoundedChannel(inner, limits, Clock())
    await channel.start()
    return [e async for e in channel.events()], inner.closed


async def test_bounded_channel_passes_a_normal_stream() -> None:
    events: list[MediaEvent] = [AudioIn(b"\0" * FRAME), DigitIn("1"), WireProblem("x", "y")]
    out, closed = await _run(events, MediaLimits())
    assert out == [*events, StreamEnded("stop")] and not closed


async def test_bounded_channel_ends_the_stream_with_the_breach() -> None:
    out, closed = await _run([AudioIn(b"\0" * FRAME * 11)], MediaLimits(max_frame_ms=200))
    assert out == [StreamEnded("closed", error="media_frame_too_large")] and closed
    flood: list[MediaEvent] = [WireProblem("wire_malformed", "bad")] * 10
    out, closed = await _run(flood, MediaLimits(max_wire_errors=3))
    assert out[-1] == StreamEnded("closed", error="wire_error_flood") and len(out) == 3


async def test_keypad_floods_lose_digits_not_the_call() -> None:
    digits: list[MediaEvent] = [DigitIn("1")] * 25
    out, closed = await _run(digits, MediaLimits(dtmf_per_s=10, max_wire_errors=50))
    assert sum(isinstance(e, DigitIn) for e in out) == 20
    assert sum(isinstance(e, WireProblem) for e in out) == 5 and not closed
