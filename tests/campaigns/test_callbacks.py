"""A callback the caller asked for is a one-customer campaign dialled at the chosen time,
inside the customer's calling window and time zone; do-not-call still stops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ivr.campaigns import admin, callbacks
from ivr.campaigns.model import CampaignState, TargetState
from tests.campaigns.helpers import FakeClock, FakeControl, Harness, customer, harness

# Monday 2024-06-10 10:00 in Shanghai (02:00 UTC): outside the default windows
MONDAY_MORNING_SH = datetime(2024, 6, 10, 2, 0, tzinfo=UTC)


async def _tick(h: Harness) -> int:
    started = await h.service.tick()
    await h.service.dialer.drain()
    return started


async def test_the_callback_is_dialled_at_the_time_asked_and_not_before(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY_MORNING_SH)
    async with harness(tmp_path, clock=clock) as h:
        await h.customers.upsert_customers([customer("a")])
        booking = await callbacks.book(h.ctx, "a", "下午三点以后", "zh")
        # default windows 12:00-13:30, 18:30-21:00: "after 3 pm" today is 18:30 Shanghai
        assert booking.slot.due_at == datetime(2024, 6, 10, 10, 30, tzinfo=UTC)
        assert booking.readback == "今天晚上6点半"
        campaign = await callbacks.schedule(h.ctx, 7, "a", booking)
        assert (campaign.id, campaign.state) == ("cb-7", CampaignState.RUNNING)
        assert await _tick(h) == 0  # lunch window open, but the caller said after three
        clock.advance(hours=8, minutes=29)
        assert await _tick(h) == 0
        clock.advance(minutes=1)
        assert await _tick(h) == 1
        assert isinstance(h.control, FakeControl)
        assert h.control.placed[0]["params"]["campaign_id"] == "cb-7"
        target = await h.store.get_target("cb-7", "a")
        assert target is not None and target.state is TargetState.IN_PROGRESS


async def test_english_words_in_a_new_york_customer_zone(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY_MORNING_SH)  # Sunday 22:00 in New York
    async with harness(tmp_path, clock=clock) as h:
        await h.customers.upsert_customers([customer("b", timezone="America/New_York")])
        booking = await callbacks.book(h.ctx, "b", "tomorrow after 6 pm", "en")
        assert booking.slot.local.isoformat() == "2024-06-10T18:30:00-04:00"
        assert booking.readback == "tomorrow at 6:30 pm"


async def test_frequency_caps_do_not_stop_a_requested_callback(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY_MORNING_SH)
    async with harness(tmp_path, clock=clock) as h:
        # a new user already called once by another campaign: capped for campaigns
        await h.customers.upsert_customers([customer("a")])
        other = await admin.create(h.ctx, "first", campaign_id="c0",
                                   policy={"windows": "00:00-24:00"})
        await admin.import_targets(h.ctx, other.id, ["a"])
        await admin.start(h.ctx, other.id)
        assert await _tick(h) == 1
        booking = await callbacks.book(h.ctx, "a", "晚点", "zh")
        await callbacks.schedule(h.ctx, 1, "a", booking)
        clock.advance(hours=2)
        assert await _tick(h) == 1


async def test_do_not_call_stops_a_booked_callback(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY_MORNING_SH)
    async with harness(tmp_path, clock=clock) as h:
        await h.customers.upsert_customers([customer("a")])
        await callbacks.schedule(h.ctx, 3, "a", await callbacks.book(h.ctx, "a", "明天", "zh"))
        await admin.add_dnc(h.ctx, "*", ["a"], "opted out")
        clock.advance(days=2)
        assert await _tick(h) == 0
        target = await h.store.get_target("cb-3", "a")
        assert target is not None and (target.state, target.reason) == (
            TargetState.SKIPPED, "do_not_call")
        assert clock.now - MONDAY_MORNING_SH == timedelta(days=2)
