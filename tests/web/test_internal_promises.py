"""The callback and opt-out routes of the internal API over a real aiohttp server on loopback:
the store is asserted (follow-up, one-customer campaign, do-not-call list, call details)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr.campaigns.context import CampaignContext, DialerSettings
from ivr.campaigns.model import CampaignState, TargetState
from ivr.campaigns.service import CampaignService
from ivr.store.campaigns import SqliteCampaignStore
from tests.campaigns.helpers import FakeControl, http_error
from tests.customers.customer_samples import NOW
from tests.web.test_internal_api import AUTH, Env, make_env


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with make_env(tmp_path) as value:
        store = await SqliteCampaignStore.open(tmp_path / "ivr.db")
        ctx = CampaignContext(store=store, customers=value.customers, control=FakeControl(),
                              settings=DialerSettings(caller_id="+8675500000000"),
                              clock=lambda: NOW)  # Monday 16:00 in Shanghai
        value.services.campaigns = CampaignService(ctx)
        yield value
        await store.close()


async def test_a_callback_is_booked_in_the_window_and_scheduled(env: Env) -> None:
    resp = await env.client.post("/internal/calls/CA1/callback", headers=AUTH,
                                 json={"when": "明天上午", "lang": "zh"})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    # Tuesday morning has no window by default (12:00-13:30, 18:30-21:00): Tuesday noon
    assert body["due_at"] == datetime(2024, 6, 11, 4, 0, tzinfo=UTC).isoformat()
    assert body["readback"] == "明天中午12点" and body["as_asked"] is False
    task = await env.customers.get_followup(body["id"])
    assert task is not None and task.kind.value == "callback"
    assert task.due_at == datetime(2024, 6, 11, 4, 0, tzinfo=UTC)
    assert task.call_sid == "CA1" and "明天上午" in task.detail
    ctx = env.services.campaigns.ctx  # type: ignore[union-attr]
    campaign = await ctx.store.get_campaign(body["campaign_id"])
    assert campaign is not None and campaign.state is CampaignState.RUNNING
    target = await ctx.store.get_target(campaign.id, "c-001")
    assert target is not None and target.state is TargetState.QUEUED
    assert target.next_at == task.due_at


async def test_english_read_back(env: Env) -> None:
    resp = await env.client.post("/internal/calls/CA1/callback", headers=AUTH,
                                 json={"when": "after 6 pm", "lang": "en"})
    body = await resp.json()
    assert body["readback"] == "today at 6:30 pm" and body["as_asked"] is True


@pytest.mark.parametrize("body", [{"when": 5}, {"when": "x" * 201}, {"lang": "fr"},
                                  {"when": "明天", "extra": 1}])
async def test_bad_callback_requests_are_400(env: Env, body: dict[str, object]) -> None:
    resp = await env.client.post("/internal/calls/CA1/callback", headers=AUTH, json=body)
    assert resp.status == 400
    assert await env.customers.list_followups() == []


async def test_callback_needs_the_token_and_a_known_call(env: Env) -> None:
    assert (await env.client.post("/internal/calls/CA1/callback", json={})).status == 403
    assert (await env.client.post("/internal/calls/CA9/callback", headers=AUTH,
                                  json={})).status == 404


async def test_opt_out_records_the_withdrawal_and_the_do_not_call_entry(env: Env) -> None:
    resp = await env.client.post("/internal/calls/CA1/opt-out", headers=AUTH)
    assert resp.status == 200 and (await resp.json())["do_not_call"] is True
    ctx = env.services.campaigns.ctx  # type: ignore[union-attr]
    assert await ctx.store.is_dnc("any-campaign", "c-001")
    assert await ctx.store.list_dnc("any-campaign") == [
        ("c-001", "consent withdrawn in call CA1")]
    call = await env.calls.get_call("CA1")
    assert call is not None
    assert call.details["consent_withdrawn"] == {"at": NOW.isoformat(), "call_sid": "CA1"}
    events = [e for e in await env.calls.get_events("CA1") if e.kind == "consent_withdrawn"]
    assert len(events) == 1 and events[0].at == NOW
    again = await env.client.post("/internal/calls/CA1/opt-out", headers=AUTH)
    assert again.status == 200  # saying it twice is fine
    assert (await env.client.post("/internal/calls/CA9/opt-out", headers=AUTH)).status == 404


async def test_an_accepted_offer_is_texted_and_recorded(env: Env) -> None:
    resp = await env.client.post("/internal/calls/CA1/offer", headers=AUTH)
    assert resp.status == 200 and await resp.json() == {"channel": "sms", "sent": True}
    control = env.services.campaigns.ctx.control  # type: ignore[union-attr]
    assert isinstance(control, FakeControl)
    (to, _from, body), = control.sms
    assert to == "+8613812345678" and "满50元立减5元" in body
    call = await env.calls.get_call("CA1")
    assert call is not None
    message = call.details["offer_message"]
    assert (message["channel"], message["at"]) == ("sms", NOW.isoformat())
    assert message["ref"].startswith("SM") and message["ref"].endswith("0001")  # masked
    assert [e.code for e in await env.calls.get_events("CA1") if e.kind == "offer_sent"] == [
        "sms"]


async def test_an_offer_that_cannot_be_sent_is_recorded_with_a_follow_up(env: Env) -> None:
    control = env.services.campaigns.ctx.control  # type: ignore[union-attr]
    assert isinstance(control, FakeControl)

    async def refuse(to: str, from_: str, body: str) -> str:
        raise http_error(400, 21211)

    control.send_sms = refuse  # type: ignore[method-assign]
    resp = await env.client.post("/internal/calls/CA1/offer", headers=AUTH)
    assert resp.status == 200 and (await resp.json())["sent"] is False
    call = await env.calls.get_call("CA1")
    assert call is not None and "error" in call.details["offer_message"]
    tasks = await env.customers.list_followups()
    assert [t.kind.value for t in tasks] == ["other"] and tasks[0].call_sid == "CA1"
