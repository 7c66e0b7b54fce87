"""Per-call media bounds (pure, time passed in)."""

from __future__ import annotations

from ivr.web.media_limits import Breach, MediaBudget, MediaLimits, SocketGate, TokenBucket


def test_bucket_refills_at_its_rate_up_to_capacity() -> None:
    bucket = TokenBucket.full(10, 20, now=0)
    assert bucket.take(20, 0) and not bucket.take(1, 0)
    assert bucket.take(10, 1.0) and not bucket.take(1, 1.0)
    assert bucket.take(20, 100.0) and not bucket.take(1, 100.0)


def test_real_time_audio_passes_for_an_hour() -> None:
    budget = MediaBudget(MediaLimits(), now=0)
    for i in range(3600 * 50):
        t = i * 0.02
        assert budget.message(t) is None
        assert budget.audio(160, t) is None


def test_a_network_stall_then_catch_up_is_accepted() -> None:
    budget = MediaBudget(MediaLimits(burst_s=5), now=0)
    for i in range(100):  # 2 s late, then 2 s of frames at once
        assert budget.audio(160, 10 + i * 0.001) is None


def test_faster_than_real_time_is_a_breach() -> None:
    budget = MediaBudget(MediaLimits(burst_s=5, rate_slack=1.25), now=0)
    breaches = [budget.audio(160, i * 0.01) for i in range(2000)]  # 2x real time for 20 s
    first = breaches.index(Breach.MEDIA_RATE)
    assert 5 * 50 < first < 20 * 50


def test_one_big_frame_and_message_floods() -> None:
    budget = MediaBudget(MediaLimits(max_payload_bytes=1600, messages_per_s=10, burst_s=1), 0)
    assert budget.audio(1601, 0) is Breach.MEDIA_FRAME
    assert [budget.message(0) for _ in range(11)][-1] is Breach.MESSAGE_RATE


def test_wire_errors_recorded_then_flood() -> None:
    budget = MediaBudget(MediaLimits(max_wire_errors=8, recorded_wire_errors=3), now=0)
    results = [budget.wire_error() for _ in range(8)]
    assert [record for record, _ in results] == [True] * 3 + [False] * 5
    assert [breach for _, breach in results][-1] is Breach.WIRE_ERRORS
    assert all(breach is None for _, breach in results[:-1])


def test_dtmf_rate() -> None:
    budget = MediaBudget(MediaLimits(dtmf_per_s=10), now=0)
    assert sum(budget.dtmf(0) for _ in range(30)) == 20
    assert budget.dtmf(0.2)


def test_socket_gate() -> None:
    gate = SocketGate(2)
    assert gate.enter() and gate.enter() and not gate.enter()
    gate.leave()
    assert gate.enter()
