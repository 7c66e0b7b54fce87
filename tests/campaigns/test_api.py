"""``/api/campaigns`` over a real aiohttp test server (bearer token, JSON errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr.call.prompts import PromptBook
from ivr.config import Config, ServerConfig
from ivr.web import campaigns_api
from ivr.web.keys import SERVICES
from ivr.web.services import Services
from tests.campaigns.helpers import FakeControl, customer, harness

TOKEN = "api-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class _Ready:
    def ready(self) -> tuple[bool, str]:
        return True, ""

    def parts(self) -> dict[str, str]:
        return {}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with harness(tmp_path, FakeControl()) as h:
        await h.customers.upsert_customers([customer("a"), customer("b")])
        services = Services(
            config=Config(server=ServerConfig(api_token=TOKEN)), store=h.calls,
            readiness=_Ready(),
            prompts=PromptBook({}), prompt_audio={},
            campaigns=h.service)
        app = web.Application()
        app[SERVICES] = services
        campaigns_api.setup(app)
        async with TestClient(TestServer(app)) as test_client:
            yield test_client


async def test_campaign_lifecycle_over_the_api(
        client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.post("/api/campaigns", json={
        "id": "c1", "name": "Callbacks", "rules": [{"kind": "pre_review", "days": 7}],
        "policy": {"max_attempts": 4, "windows": "18:30-21:00"}}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["state"] == "draft" and body["policy"]["max_attempts"] == 4
    assert body["policy"]["windows"] == "18:30-21:00"
    resp = await client.post("/api/campaigns/c1/targets", json={"customer_ids": ["a", "zz"]},
                             headers=AUTH)
    assert await resp.json() == {"added": 1, "already": 0, "unknown": ["zz"]}
    resp = await client.post("/api/campaigns/c1/dnc", json={"customer_ids": ["b"]},
                             headers=AUTH)
    assert await resp.json() == {"added": 1}
    resp = await client.post("/api/campaigns/c1/start", headers=AUTH)
    body = await resp.json()
    # "b" passed pre-review 8 days ago: the rule adds it too (the dnc list skips it later).
    assert body["state"] == "running" and body["counts"]["queued"] == 2
    assert (await client.post("/api/campaigns/c1/start", headers=AUTH)).status == 409
    assert (await (await client.post("/api/campaigns/c1/pause", headers=AUTH)).json()
            )["state"] == "paused"
    assert (await (await client.post("/api/campaigns/c1/resume", headers=AUTH)).json()
            )["state"] == "running"
    listed = await (await client.get("/api/campaigns", headers=AUTH)).json()
    assert [c["id"] for c in listed["campaigns"]] == ["c1"]
    report = await (await client.get("/api/campaigns/c1/report", headers=AUTH)).json()
    assert report["summary"]["targets"] == 2 and report["summary"]["reach_rate"] is None
    assert (await client.post("/api/campaigns/c1/requeue", json={}, headers=AUTH)).status == 200


async def test_api_errors(client: TestClient[web.Request, web.Application]) -> None:
    assert (await client.get("/api/campaigns")).status == 401
    resp = await client.get("/api/campaigns/nope", headers=AUTH)
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"
    bad = [{"name": "x", "policy": {"max_attempts": 0}}, {"name": "x", "rules": [{"kind": "?"}]},
           {"name": "x", "extra": 1}, {"name": 3}, {"name": "x", "id": "bad id"}]
    for body in bad:
        resp = await client.post("/api/campaigns", json=body, headers=AUTH)
        assert resp.status == 400, body
        assert (await resp.json())["error"] in ("invalid_field", "unknown_fields")
    await client.post("/api/campaigns", json={"id": "c1", "name": "x"}, headers=AUTH)
    again = await client.post("/api/campaigns", json={"id": "c1", "name": "x"}, headers=AUTH)
    assert again.status == 409 and (await again.json())["error"] == "exists"
    resp = await client.post("/api/campaigns/c1/targets", json={"customer_ids": "a"},
                             headers=AUTH)
    assert resp.status == 400
