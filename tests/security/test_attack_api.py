"""Attacks on the REST API and metrics (issue 9): no trust by network position, known hosts only,
JSON endpoints only with JSON, malformed queries answered 4xx, never 500."""

from __future__ import annotations

import json

import pytest

from ivr.agents.model import Role
from ivr.store.records import CallRecord
from ivr.telephony.base import TransferKind, TransferTarget
from ivr.web.access import rule_for
from tests.agents.dashboard_client import logged_in
from tests.security.harness import API_TOKEN, Harness
from tests.security.rawhttp import raw_request

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
PHONE = TransferTarget(TransferKind.PHONE, "+8613900001234")


@pytest.mark.parametrize("path", ["/api/calls", "/api/calls/CA1", "/metrics",
                                  "/api/followups", "/api/campaigns"])
async def test_default_config_api_refuses_loopback_clients(open_api: Harness, path: str) -> None:
    """Attack: with server.api_token empty (the default) any loopback client -- i.e. anyone
    behind a same-host reverse proxy -- read transcripts and metrics."""
    await open_api.calls.create_call(CallRecord(call_sid="CA1"))
    resp = await open_api.client.get(path)
    assert resp.status == 401, await resp.text()
    assert "api_token" in await resp.text()
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_default_config_cannot_create_or_start_campaigns(open_api: Harness) -> None:
    resp = await open_api.client.post("/api/campaigns", json={"id": "evil", "name": "x"})
    assert resp.status == 401
    assert await open_api.services.campaigns.ctx.store.get_campaign("evil") is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": API_TOKEN}, 401),
    ({"Authorization": f"Basic {API_TOKEN}"}, 401), (AUTH, 200)])
async def test_token_is_checked_on_every_api_route(h: Harness, headers: dict[str, str],
                                                   expected: int) -> None:
    for path in ("/api/calls", "/metrics", "/api/followups", "/api/campaigns"):
        resp = await h.client.get(path, headers=headers)
        assert resp.status == expected, (path, await resp.text())


async def _agent(h: Harness, username: str, role: Role) -> None:
    assert h.services.agents is not None
    await h.services.agents.add(username, "correct horse battery", display_name=username,
                                target=PHONE, languages=["zh"], role=role)


async def test_supervisor_session_reads_the_api_agents_do_not(plain_http: Harness) -> None:
    open_api = plain_http
    await _agent(open_api, "sup", Role.SUPERVISOR)
    await _agent(open_api, "ann", Role.AGENT)
    await logged_in(open_api.client, "ann", "correct horse battery")
    assert (await open_api.client.get("/api/calls")).status == 403
    open_api.client.session.cookie_jar.clear()
    csrf = await logged_in(open_api.client, "sup", "correct horse battery")
    assert (await open_api.client.get("/api/calls")).status == 200
    assert (await open_api.client.get("/metrics")).status == 200
    # A state change from a session needs the session's CSRF token (and a same-site origin).
    body = {"id": "c9", "name": "x"}
    assert (await open_api.client.post("/api/campaigns", json=body)).status == 403
    resp = await open_api.client.post("/api/campaigns", json=body,
                                      headers={"X-CSRF-Token": csrf})
    assert resp.status == 201, await resp.text()


@pytest.mark.parametrize("host", ["evil.example.net", "ivr.example.com.evil.net",
                                  "127.0.0.2:8080", "ivr.example.com:8443", ""])
async def test_foreign_host_header_is_refused(h: Harness, host: str) -> None:
    """Attack: DNS rebinding / a forged Host reached the handlers."""
    status, text = await raw_request(
        h.port, f"GET /api/calls HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {API_TOKEN}")
    assert status == 400, text
    assert "Host" in text


@pytest.mark.parametrize("host", ["ivr.example.com", "ivr.example.com:443", "IVR.example.com"])
async def test_public_host_is_accepted(h: Harness, host: str) -> None:
    status, text = await raw_request(
        h.port, f"GET /api/calls HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {API_TOKEN}")
    assert status == 200, text


async def test_listen_address_answers_health_checks(h: Harness) -> None:
    for host in (f"127.0.0.1:{h.port}", f"localhost:{h.port}"):
        status, text = await raw_request(h.port, f"GET /healthz HTTP/1.1\r\nHost: {host}")
        assert status == 200, text


async def test_cross_site_text_plain_post_does_not_reach_the_handler(h: Harness) -> None:
    """Attack: a browser form (text/plain, no preflight) posted JSON-looking text."""
    body = json.dumps({"id": "evil", "name": "x", "policy": {"reward": "10 points"}})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"):
        resp = await h.client.post("/api/campaigns", data=body, headers={
            **AUTH, "Content-Type": ctype, "Origin": "https://evil.example.net"})
        assert resp.status == 415, await resp.text()
    assert await h.services.campaigns.ctx.store.get_campaign("evil") is None  # type: ignore[union-attr]
    resp = await h.client.post("/api/campaigns", json={"id": "ok", "name": "x"}, headers=AUTH)
    assert resp.status == 201


async def test_a_post_without_a_body_needs_no_content_type(h: Harness) -> None:
    await h.client.post("/api/campaigns", json={"id": "c1", "name": "x"}, headers=AUTH)
    for headers in ({}, {"Content-Type": "application/octet-stream"}):
        resp = await h.client.post("/api/campaigns/c1/pause", headers={**AUTH, **headers})
        assert resp.status != 415


async def test_json_body_in_another_charset_is_refused(h: Harness) -> None:
    resp = await h.client.post("/api/campaigns", data="{}".encode("utf-16"), headers={
        **AUTH, "Content-Type": "application/json; charset=utf-16"})
    assert resp.status == 415


@pytest.mark.parametrize("query", [
    "since=2024-01-01T00:00:00",  # no time zone
    "offset=9223372036854775808",  # 2**63
    "offset=99999999999999999999999",
    "offset=-1",
    "limit=abc",
    "since=yesterday",
])
async def test_malformed_queries_are_400(h: Harness, query: str) -> None:
    resp = await h.client.get(f"/api/calls?{query}", headers=AUTH)
    assert resp.status == 400, await resp.text()


async def test_followups_offset_overflow_is_not_500(h: Harness) -> None:
    resp = await h.client.get("/api/followups?offset=9223372036854775808", headers=AUTH)
    assert 200 <= resp.status < 500


async def test_since_with_time_zone_works(h: Harness) -> None:
    await h.calls.create_call(CallRecord(call_sid="CA1"))
    resp = await h.client.get("/api/calls?since=2000-01-01T00:00:00%2B08:00", headers=AUTH)
    assert resp.status == 200
    assert [c["call_sid"] for c in (await resp.json())["calls"]] == ["CA1"]


@pytest.mark.parametrize("path", ["/api/calls", "/twilio/voice", "/healthz"])
async def test_absolute_form_request_target_is_400(h: Harness, path: str) -> None:
    """Attack: ``GET http://host/path`` made the signature check raise (HTTP 500)."""
    method = "POST" if path.startswith("/twilio") else "GET"
    status, text = await raw_request(
        h.port, f"{method} http://ivr.example.com{path} HTTP/1.1\r\nHost: ivr.example.com\r\n"
                f"Authorization: Bearer {API_TOKEN}\r\n"
                "Content-Type: application/x-www-form-urlencoded", b"CallSid=CA1")
    assert status == 400, text


async def test_readyz_does_not_show_the_process_id(h: Harness) -> None:
    resp = await h.client.get("/readyz")
    assert resp.status == 200
    assert "pid" not in await resp.json()


async def test_every_route_says_who_may_use_it(h: Harness) -> None:
    """No registered route falls outside the access table (it would answer 404)."""
    app = h.client.app
    assert app is not None
    paths = [r.resource.canonical for r in app.router.routes() if r.resource is not None]
    for sub in app._subapps:  # the dashboard
        paths += [r.resource.canonical for r in sub.router.routes() if r.resource is not None]
    assert len(paths) > 20
    for path in paths:
        assert rule_for(path) is not None, path


async def test_unknown_path_is_404_without_reaching_a_handler(h: Harness) -> None:
    assert (await h.client.get("/debug/vars", headers=AUTH)).status == 404
