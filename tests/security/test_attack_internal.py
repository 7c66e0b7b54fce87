"""Attacks on the internal API the action server uses (issue 9): loopback is not enough, the
per-start secret is; there is no "are these the ID digits?" oracle; bodies are JSON only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from ivr.store.records import CallRecord
from tests.customers.customer_samples import customer
from tests.security.harness import Harness, harness

TOKEN = {"X-IVR-Internal-Token": "internal-token-for-tests"}
REMOTE = "X-Test-Remote"


@web.middleware
async def fake_remote(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
    """Test only: pretend the client has the address in X-Test-Remote."""
    remote = request.headers.get(REMOTE)
    return await handler(request.clone(remote=remote) if remote else request)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, middlewares=(fake_remote,)) as h:
        await h.customers.upsert_customers([customer()])
        await h.calls.create_call(CallRecord(call_sid="CA1", customer_id="c-001"))
        yield h


ROUTES = [("GET", "/internal/customers/c-001"),
          ("POST", "/internal/calls/CA1/followups"),
          ("POST", "/internal/calls/CA1/results")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_loopback_without_the_secret_is_refused(site: Harness, method: str,
                                                     path: str) -> None:
    for headers in ({}, {"X-IVR-Internal-Token": "guess"}, {"Authorization": "Bearer x"}):
        resp = await site.client.request(method, path, headers=headers, json={})
        assert resp.status == 403, (path, headers)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_the_secret_from_elsewhere_is_refused(site: Harness, method: str,
                                                   path: str) -> None:
    resp = await site.client.request(method, path, json={},
                                     headers={**TOKEN, REMOTE: "203.0.113.5"})
    assert resp.status == 403


async def test_no_id_oracle_even_with_the_secret(site: Harness) -> None:
    """Before: any holder of the action server's position could test digits per customer."""
    for digits in ("123X", "0000"):
        resp = await site.client.post("/internal/customers/c-001/verify-id", headers=TOKEN,
                                      json={"last4": digits, "call_sid": "CA1"})
        assert resp.status == 404
    profile = await (await site.client.get("/internal/customers/c-001", headers=TOKEN)).json()
    assert "123X" not in str(profile) and "id_hash" not in profile


async def test_internal_bodies_are_json_only(site: Harness) -> None:
    resp = await site.client.post("/internal/calls/CA1/results", data='{"rating": 5}',
                                  headers={**TOKEN, "Content-Type": "text/plain"})
    assert resp.status == 415
    record = await site.calls.get_call("CA1")
    assert record is not None and "rating" not in record.details
