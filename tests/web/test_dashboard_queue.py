"""The dashboard's live queue (SSE), context card, Accept, wrap-up and supervisor view over
real aiohttp on loopback with the real stores and a real (direct) handoff service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ivr.agents.accounts import Agent
from ivr.agents.queue import QueueStatus, TransferFailed
from ivr.core.types import Language, Priority
from ivr.customers.model import FollowUp, FollowUpKind
from ivr.store.records import CallRecord, Role, TurnRecord
from tests.agents.dashboard_client import Client, event_named, logged_in
from tests.agents.support import PASSWORD, Env, card, dashboard_env, target


@dataclass
class Logged:
    client: Client
    csrf: str

    async def post(self, path: str, body: object) -> tuple[int, dict[str, object]]:
        response = await self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf})
        return response.status, await response.json()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with dashboard_env(tmp_path) as env:
        await env.agents.add("zh1", PASSWORD, display_name="Zhou", target=target(1),
                             languages=["zh"])
        await env.agents.add("zh2", PASSWORD, display_name="Zhao", target=target(2),
                             languages=["zh", "en"])
        await env.agents.add("en1", PASSWORD, display_name="Emma", target=target(3),
                             languages=["en"])
        await env.agents.add("boss", PASSWORD, display_name="Boss", target=target(4),
                             languages=["zh"], role="supervisor")
        yield env


async def _login(env: Env, username: str) -> AsyncIterator[Logged]:
    async with TestClient(TestServer(env.app)) as client:
        yield Logged(client, await logged_in(client, username, PASSWORD))


@pytest.fixture
async def zh1(env: Env) -> AsyncIterator[Logged]:
    async for logged in _login(env, "zh1"):
        yield logged


@pytest.fixture
async def zh2(env: Env) -> AsyncIterator[Logged]:
    async for logged in _login(env, "zh2"):
        yield logged


async def _call(env: Env, sid: str = "CA1") -> None:
    await env.calls.create_call(CallRecord(call_sid=sid, language=Language.ZH,
                                           details={"faq_topics": ["fees"], "rating": 1}))
    await env.calls.add_turn(TurnRecord(call_sid=sid, role=Role.BOT, text="您好"))
    await env.calls.add_turn(TurnRecord(call_sid=sid, role=Role.CALLER,
                                        text="<script>alert(1)</script> 13812345678"))


async def test_queue_snapshot_is_in_service_order_with_masked_customers(
        env: Env, zh1: Logged) -> None:
    await env.queue.enqueue("CA1", "complaint", Priority.NORMAL, Language.ZH, card())
    await env.queue.enqueue("CA2", "fraud", Priority.URGENT, Language.EN,
                            card(name="Emma Hall", phone="+1555****4567"))
    response = await zh1.client.get("/dashboard/api/queue")
    entries = (await response.json())["entries"]
    assert [e["call_sid"] for e in entries] == ["CA2", "CA1"]
    assert entries[0]["customer"]["label"] == "E. H."
    assert entries[1]["customer"]["label"] == "张**"
    assert entries[1]["customer"]["phone_masked"] == "138****5678"
    assert "三丰" not in await response.text()


async def test_context_card_with_transcript_from_the_call_store(env: Env, zh1: Logged
                                                                ) -> None:
    await _call(env)
    entry = await env.queue.enqueue("CA1", "rating", Priority.HIGH, Language.ZH, card())
    response = await zh1.client.get(f"/dashboard/api/entries/{entry.id}")
    body = await response.json()
    assert body["reason"] == "rating" and body["priority"] == "high"
    assert body["confirmed_fields"] == ["city"] and body["faq_topics"] == ["fees"]
    assert body["rating"] == 1
    assert [t["role"] for t in body["transcript"]] == ["bot", "caller"]
    assert body["transcript"][1]["text"] == "<script>alert(1)</script> *******5678"
    assert response.content_type == "application/json"
    assert (await zh1.client.get("/dashboard/api/entries/999")).status == 404


async def test_accept_race_one_wins_the_other_gets_409(env: Env, zh1: Logged, zh2: Logged
                                                        ) -> None:
    await _call(env)
    entry = await env.queue.enqueue("CA1", "request", Priority.NORMAL, Language.ZH, card())
    url = f"/dashboard/api/entries/{entry.id}/accept"
    (s1, b1), (s2, b2) = await asyncio.gather(zh1.post(url, {}), zh2.post(url, {}))
    assert sorted([s1, s2]) == [200, 409]
    loser = b1 if s1 == 409 else b2
    assert loser["error"] == "already_taken"
    stored = await env.queue.get(entry.id)
    assert stored is not None and stored.status is QueueStatus.TRANSFERRED
    assert len(env.handoff.accepted) == 1
    assert await env.queue.waiting() == []


async def test_accept_needs_the_language_and_csrf(env: Env, zh1: Logged) -> None:
    entry = await env.queue.enqueue("CA9", "r", Priority.NORMAL, Language.EN, {})
    status, body = await zh1.post(f"/dashboard/api/entries/{entry.id}/accept", {})
    assert status == 403 and body["error"] == "language"
    no_csrf = await zh1.client.post(f"/dashboard/api/entries/{entry.id}/accept")
    assert no_csrf.status == 403
    assert (await env.queue.get(entry.id)).status is QueueStatus.WAITING  # type: ignore[union-attr]


class _FailingHandoff:
    def __init__(self, env: Env) -> None:
        self.env = env

    async def accept(self, entry_id: int, agent: Agent) -> None:
        await self.env.queue.accept(entry_id, agent.id)
        await self.env.queue.requeue_head(entry_id)
        raise TransferFailed("the agent's phone did not answer")


async def test_failed_transfer_is_502_and_the_call_is_back_first(env: Env, zh1: Logged
                                                                  ) -> None:
    await env.queue.enqueue("CA1", "r", Priority.NORMAL, Language.ZH, {})
    second = await env.queue.enqueue("CA2", "r", Priority.NORMAL, Language.ZH, {})
    env.services.handoff = _FailingHandoff(env)
    status, body = await zh1.post(f"/dashboard/api/entries/{second.id}/accept", {})
    assert status == 502 and body["error"] == "transfer_failed"
    assert "did not answer" in str(body["message"])
    assert [e.call_sid for e in await env.queue.waiting()] == ["CA2", "CA1"]


async def test_wrapup_is_saved_in_the_call_record(env: Env, zh1: Logged, zh2: Logged) -> None:
    await _call(env)
    entry = await env.queue.enqueue("CA1", "r", Priority.NORMAL, Language.ZH, card())
    assert (await zh1.post(f"/dashboard/api/entries/{entry.id}/accept", {}))[0] == 200
    other = await zh2.post("/dashboard/api/wrapup", {"entry_id": entry.id,
                                                     "disposition": "resolved"})
    assert other[0] == 403
    bad = await zh1.post("/dashboard/api/wrapup", {"entry_id": entry.id,
                                                   "disposition": "nope"})
    assert bad[0] == 400
    status, body = await zh1.post("/dashboard/api/wrapup", {
        "entry_id": entry.id, "disposition": "follow_up_needed",
        "notes": "card 6222021234567890123 to replace"})
    assert status == 200
    call = await env.calls.get_call("CA1")
    assert call is not None
    wrapup = call.details["wrapup"]
    assert wrapup["disposition"] == "follow_up_needed" and wrapup["agent"] == "Zhou"
    assert wrapup["notes"] == "card ***************0123 to replace"
    assert call.details["faq_topics"] == ["fees"]  # merged, not replaced
    assert body["wrapup"] == wrapup


async def test_events_stream_pushes_queue_changes(env: Env, zh1: Logged, zh2: Logged) -> None:
    stream = await zh1.client.get("/dashboard/events")
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert (await event_named(stream, "hello"))["username"] == "zh1"
    assert (await event_named(stream, "queue"))["entries"] == []
    entry = await env.queue.enqueue("CA1", "<img src=x onerror=alert(1)>", Priority.URGENT,
                                    Language.ZH, card())
    change = await asyncio.wait_for(event_named(stream, "change"), 5)
    assert change == {"kind": "enqueued", "entry_id": entry.id, "call_sid": "CA1",
                      "status": "waiting"}
    queue = await asyncio.wait_for(event_named(stream, "queue"), 5)
    assert [e["id"] for e in queue["entries"]] == [entry.id]
    assert queue["entries"][0]["reason"] == "<img src=x onerror=alert(1)>"
    await zh2.post(f"/dashboard/api/entries/{entry.id}/accept", {})
    while True:  # accepted, then finished (transferred): the last snapshot is empty
        queue = await asyncio.wait_for(event_named(stream, "queue"), 5)
        if not queue["entries"]:
            break
    stream.close()


async def test_supervisor_overview(env: Env, zh1: Logged) -> None:
    now = datetime.now(UTC)
    await env.customers.add_followup(FollowUp(
        kind=FollowUpKind.CALLBACK, call_sid="CA7", customer_id=None,
        detail="call back 13812345678", due_at=now + timedelta(hours=1), created_at=now,
        owner="zh1"))
    await env.queue.enqueue("CA1", "r", Priority.NORMAL, Language.ZH, {})
    await env.queue.enqueue("CA2", "r", Priority.NORMAL, Language.ZH, {})
    await env.queue.finish("CA2", "abandoned", wait_s=5)
    assert (await zh1.client.get("/dashboard/api/overview")).status == 403
    async for boss in _login(env, "boss"):
        body = await (await boss.client.get("/dashboard/api/overview")).json()
        assert body["stats"]["queue_length"] == 1 and body["stats"]["abandoned_today"] == 1
        assert [a["username"] for a in body["agents"]] == ["boss", "en1", "zh1", "zh2"]
        assert body["followups"][0]["owner"] == "zh1"
        assert body["followups"][0]["detail"] == "call back *******5678"
        stream = await boss.client.get("/dashboard/events")
        overview = await asyncio.wait_for(event_named(stream, "overview"), 5)
        assert overview["stats"]["queue_length"] == 1
        stream.close()


async def test_stream_ends_on_logout_and_frees_its_subscription(
        env: Env, zh1: Logged, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ivr.web.dashboard.events.HEARTBEAT_S", 0.05)
    stream = await zh1.client.get("/dashboard/events")
    await event_named(stream, "queue")
    assert env.queue.feed.subscribers == 1
    out = await zh1.client.post("/dashboard/logout", allow_redirects=False,
                                data={"csrf_token": zh1.csrf})
    assert out.status == 303
    assert await asyncio.wait_for(event_named(stream, "logout"), 5) == {
        "reason": "session ended"}
    for _ in range(100):
        if env.queue.feed.subscribers == 0:
            break
        await asyncio.sleep(0.02)
    assert env.queue.feed.subscribers == 0
    async for again in _login(env, "zh1"):
        dropped = await again.client.get("/dashboard/events")
        await event_named(dropped, "queue")
        dropped.close()  # the browser goes away: the next heartbeat write notices
        for _ in range(100):
            if env.queue.feed.subscribers == 0:
                break
            await asyncio.sleep(0.02)
        assert env.queue.feed.subscribers == 0


async def test_open_streams_are_bounded_per_agent_and_in_all(
        env: Env, zh1: Logged, zh2: Logged, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ivr.web.dashboard.events.MAX_PER_AGENT", 2)
    monkeypatch.setattr("ivr.web.dashboard.events.MAX_STREAMS", 3)
    open_ = [await zh1.client.get("/dashboard/events") for _ in range(2)]
    for stream in open_:
        await event_named(stream, "queue")
    third = await zh1.client.get("/dashboard/events")
    assert third.status == 429 and (await third.json())["error"] == "too_many_streams"
    other = await zh2.client.get("/dashboard/events")  # another agent still gets one
    await event_named(other, "queue")
    assert env.queue.feed.subscribers == 3
    full = await zh2.client.get("/dashboard/events")
    assert full.status == 429  # the server's cap
    open_[0].close()  # a tab closed: its place is free again (noticed at the next write)
    monkeypatch.setattr("ivr.web.dashboard.events.HEARTBEAT_S", 0.05)
    for _ in range(200):
        again = await zh1.client.get("/dashboard/events")
        if again.status == 200:
            break
        await asyncio.sleep(0.02)
    assert again.status == 200
    for stream in (again, open_[1], other):
        stream.close()
