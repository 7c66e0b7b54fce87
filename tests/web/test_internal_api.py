"""The internal API (action server) and /api/followups over a real aiohttp server on loopback."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr.call.prompts import PromptBook
from ivr.config import Config, ServerConfig
from ivr.customers.service import CustomerService
from ivr.store.customers import SqliteCustomerStore
from ivr.store.records import CallRecord
from ivr.store.sqlite import SqliteCallStore
from ivr.web import customers_api, internal, internal_promises
from ivr.web.internal import TOKEN_HEADER, ensure_internal_token, is_loopback
from ivr.web.keys import SERVICES
from ivr.web.services import Services
from tests.customers.customer_samples import NOW, PHONE, PHONE_DIGITS, customer

TOKEN = "s3cret-token-for-tests"
AUTH = {TOKEN_HEADER: TOKEN}
API = {"Authorization": "Bearer api-token"}
FAKE_REMOTE = "X-Test-Remote"  # test-only middleware: pretend the client has this address


class _Ready:
    def ready(self) -> tuple[bool, str]:
        return True, ""

    def parts(self) -> dict[str, str]:
        return {}


@web.middleware
async def fake_remote(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
    remote = request.headers.get(FAKE_REMOTE)
    return await handler(request.clone(remote=remote) if remote else request)


@dataclass
class Env:
    client: TestClient[web.Request, web.Application]
    calls: SqliteCallStore
    customers: SqliteCustomerStore
    services: Services


@contextlib.asynccontextmanager
async def make_env(tmp_path: Path, api_token: str = "api-token") -> AsyncIterator[Env]:
    path = tmp_path / "ivr.db"
    calls = await SqliteCallStore.open(path)
    customers = await SqliteCustomerStore.open(path)
    await customers.upsert_customers([customer(), customer(customer_id="c-en", name="Emma Hall",
                                                           title="Ms. Hall", id_last4="0042")])
    await calls.create_call(CallRecord(call_sid="CA1", customer_id="c-001",
                                       details={"faq_topics": ["activation"]}))
    config = Config(server=ServerConfig(internal_token=TOKEN, api_token=api_token))
    services = Services(
        config=config, store=calls, readiness=_Ready(), prompts=PromptBook({}), prompt_audio={},
        customers=CustomerService(customers, clock=lambda: NOW),
    )
    app = web.Application(middlewares=[fake_remote])
    app[SERVICES] = services
    internal.setup(app)
    internal_promises.setup(app)
    customers_api.setup(app)
    client: TestClient[web.Request, web.Application] = TestClient(
        TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Env(client, calls, customers, services)
    finally:
        await client.close()
        await customers.close()
        await calls.close()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with make_env(tmp_path) as value:
        yield value


async def test_profile_is_masked_and_complete(env: Env, caplog: pytest.LogCaptureFixture
                                              ) -> None:
    caplog.set_level(logging.DEBUG)
    resp = await env.client.get("/internal/customers/c-001", headers=AUTH)
    assert resp.status == 200
    text = await resp.text()
    body = await resp.json()
    assert body["phone_masked"] == "138****5678"
    assert body["missing_documents"] == ["id_card_back", "proof_of_address"]
    assert [i["kind"] for i in body["recent_issues"]] == ["failed_payment", "refund"]
    assert body["title"] == "张先生" and body["card_last4"] == "4321"
    for secret in (PHONE_DIGITS, PHONE, "123X", "zhang.wei"):
        assert secret not in text
        assert secret not in caplog.text


async def test_unknown_customer_is_404_json(env: Env) -> None:
    resp = await env.client.get("/internal/customers/nobody", headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


@pytest.mark.parametrize("headers", [{}, {TOKEN_HEADER: "wrong"}, {TOKEN_HEADER: TOKEN + "x"}])
async def test_missing_or_wrong_token_is_403(env: Env, headers: dict[str, str]) -> None:
    for method, url in (("GET", "/internal/customers/c-001"),
                        ("POST", "/internal/calls/CA1/followups"),
                        ("POST", "/internal/calls/CA1/results")):
        resp = await env.client.request(method, url, headers=headers, json={})
        assert resp.status == 403, url
        body = await resp.json()
        assert body["error"] == "forbidden" and "message" in body


async def test_non_loopback_client_is_403_even_with_the_token(env: Env) -> None:
    for remote in ("192.168.1.20", "10.0.0.5", "::ffff:10.0.0.5"):
        resp = await env.client.get("/internal/customers/c-001",
                                    headers={**AUTH, FAKE_REMOTE: remote})
        assert resp.status == 403
        assert "loopback" in (await resp.json())["message"]
    ok = await env.client.get("/internal/customers/c-001", headers={**AUTH, FAKE_REMOTE: "::1"})
    assert ok.status == 200


async def test_empty_configured_token_refuses_everything(tmp_path: Path) -> None:
    async with make_env(tmp_path) as env:
        env.services.config = Config(server=ServerConfig(internal_token=""))
        resp = await env.client.get("/internal/customers/c-001", headers={TOKEN_HEADER: ""})
        assert resp.status == 403


async def test_no_customer_service_is_503(env: Env) -> None:
    env.services.customers = None
    resp = await env.client.get("/internal/customers/c-001", headers=AUTH)
    assert resp.status == 503 and (await resp.json())["error"] == "unavailable"


async def test_there_is_no_id_oracle(env: Env) -> None:
    """The IVR checks ID digits itself; nothing on the host can ask whether digits match."""
    resp = await env.client.post("/internal/customers/c-001/verify-id", headers=AUTH,
                                 json={"last4": "123X"})
    assert resp.status in (404, 405)
    profile = await (await env.client.get("/internal/customers/c-001", headers=AUTH)).json()
    assert profile["id_ends_with_x"] is True
    assert not any(k.startswith("id_") and k != "id_ends_with_x" for k in profile)


async def test_bad_json_is_400(env: Env) -> None:
    broken = await env.client.post("/internal/calls/CA1/results",
                                   headers={**AUTH, "Content-Type": "application/json"},
                                   data=b"{nope")
    assert broken.status == 400 and (await broken.json())["error"] == "bad_json"


async def test_followups_from_a_call_and_the_rest_api(env: Env) -> None:
    resp = await env.client.post("/internal/calls/CA1/followups", headers=AUTH, json={
        "kind": "bank_card_change", "detail": "new card 6222021234567890123"})
    assert resp.status == 201
    created = await resp.json()
    assert created["due_at"] == (NOW + timedelta(hours=24)).isoformat()
    resp = await env.client.post("/internal/calls/CA1/followups", headers=AUTH, json={
        "kind": "callback", "detail": "after 6pm", "due_in_hours": 10})
    assert resp.status == 201
    bad_kind = await env.client.post("/internal/calls/CA1/followups", headers=AUTH,
                                     json={"kind": "pizza", "detail": ""})
    assert bad_kind.status == 400 and "bank_card_change" in (await bad_kind.json())["message"]
    bad_hours = await env.client.post("/internal/calls/CA1/followups", headers=AUTH,
                                      json={"kind": "callback", "due_in_hours": "soon"})
    assert bad_hours.status == 400
    no_call = await env.client.post("/internal/calls/CA404/followups", headers=AUTH,
                                    json={"kind": "callback", "detail": ""})
    assert no_call.status == 404 and (await no_call.json())["error"] == "not_found"

    listing = await (await env.client.get("/api/followups", headers=API)).json()
    tasks = listing["followups"]
    assert [t["kind"] for t in tasks] == ["callback", "bank_card_change"]  # due first
    card = tasks[1]
    assert card["id"] == created["id"] and card["customer_id"] == "c-001"
    assert card["detail"] == "new card ***************0123" and card["status"] == "open"
    done = await env.client.post(f"/api/followups/{card['id']}/done", json={"owner": "agent-7"},
                                 headers=API)
    assert done.status == 200
    assert (await done.json())["status"] == "done"
    open_only = await (await env.client.get("/api/followups?status=open", headers=API)).json()
    assert [t["kind"] for t in open_only["followups"]] == ["callback"]
    assert (await env.client.post("/api/followups/999/done", headers=API)).status == 404
    assert (await env.client.get("/api/followups?status=weird", headers=API)).status == 400


async def test_followups_api_needs_the_bearer_token_even_on_loopback(tmp_path: Path) -> None:
    async with make_env(tmp_path) as env:
        assert (await env.client.get("/api/followups")).status == 401
        ok = await env.client.get("/api/followups", headers=API)
        assert ok.status == 200
    (tmp_path / "again").mkdir()
    async with make_env(tmp_path / "again", api_token="") as env:
        closed = await env.client.get("/api/followups", headers=API)
        assert closed.status == 401 and (await closed.json())["error"] == "unauthorized"


async def test_results_merge_into_call_details(env: Env, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    caplog.set_level(logging.DEBUG)
    url = "/internal/calls/CA1/results"
    resp = await env.client.post(url, headers=AUTH, json={
        "confirmed_fields": ["name", "phone"], "faq_topics": ["payment_failure"],
        "rating": 5, "feedback": f"回电请打 {PHONE_DIGITS}", "offer": "accepted",
        "reward": {"kind": "points", "amount": 200}, "identity_verified": True})
    assert resp.status == 200
    details = await resp.json()
    assert details["faq_topics"] == ["activation", "payment_failure"]
    assert details["feedback"] == "回电请打 *******5678"
    assert details["rating"] == 5 and details["identity_verified"] is True
    resp = await env.client.post(url, headers=AUTH, json={"corrections": ["city"], "rating": 4})
    details = await resp.json()
    assert details["rating"] == 4 and details["corrections"] == ["city"]
    assert details["confirmed_fields"] == ["name", "phone"]
    call = await env.calls.get_call("CA1")
    assert call is not None and call.details == details
    assert PHONE_DIGITS not in caplog.text


@pytest.mark.parametrize(("body", "code"), [
    ({"rating": 9}, "invalid_field"),
    ({"offer": "maybe"}, "invalid_field"),
    ({"rating": 3, "mood": "x", "extra": 1}, "unknown_fields"),
    (["not", "an", "object"], "bad_request"),
])
async def test_bad_results_are_400(env: Env, body: Any, code: str) -> None:
    resp = await env.client.post("/internal/calls/CA1/results", headers=AUTH, json=body)
    assert resp.status == 400
    payload = await resp.json()
    assert payload["error"] == code
    if code == "unknown_fields":
        assert payload["message"] == "unknown key(s): extra, mood"


async def test_results_for_an_unknown_call_are_404(env: Env) -> None:
    resp = await env.client.post("/internal/calls/CA404/results", headers=AUTH,
                                 json={"rating": 5})
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"


def test_ensure_internal_token() -> None:
    generated = ensure_internal_token(Config())
    assert len(generated.server.internal_token) >= 32
    assert ensure_internal_token(generated) is generated
    assert ensure_internal_token(Config()).server.internal_token != \
        generated.server.internal_token


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("10.1.2.3") and not is_loopback(None) and not is_loopback("x")


def _non_loopback_address() -> str | None:
    """This machine's own non-loopback IPv4 address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if is_loopback(address) or address == "0.0.0.0" else address


async def test_real_connection_from_a_non_loopback_address_is_403(env: Env) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback interface on this machine")
    app = web.Application()
    app[SERVICES] = env.services
    internal.setup(app)
    async with TestClient(TestServer(app, host=address)) as client:
        resp = await client.get("/internal/customers/c-001", headers=AUTH)
        assert resp.status == 403
        assert (await resp.json())["error"] == "forbidden"
