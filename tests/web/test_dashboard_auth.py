"""Dashboard login, sessions, CSRF and the failed-login limit over real aiohttp on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ivr.agents.sessions import SessionPolicy
from tests.agents.dashboard_client import Client, logged_in, login, login_form_token
from tests.agents.support import PASSWORD, Env, dashboard_env, target


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with dashboard_env(tmp_path) as env:
        await env.agents.add("amy", PASSWORD, display_name="Amy <b>&</b>", target=target(1),
                             languages=["zh"])
        yield env


@pytest.fixture
async def client(env: Env) -> AsyncIterator[Client]:
    async with TestClient(TestServer(env.app)) as client:
        yield client


async def test_logged_out_sees_only_the_login_page(client: Client) -> None:
    home = await client.get("/dashboard/", allow_redirects=False)
    assert home.status == 302 and home.headers["Location"] == "/dashboard/login"
    bare = await client.get("/dashboard", allow_redirects=False)
    assert bare.status == 302 and bare.headers["Location"] == "/dashboard/"
    for path in ("/dashboard/events", "/dashboard/api/queue", "/dashboard/api/entries/1",
                 "/dashboard/api/overview"):
        response = await client.get(path)
        assert response.status == 401, path
        assert (await response.json())["error"] == "unauthorized"
    for path in ("/dashboard/api/entries/1/accept", "/dashboard/api/presence",
                 "/dashboard/api/wrapup"):
        assert (await client.post(path, json={})).status == 401, path
    page = await client.get("/dashboard/login")
    text = await page.text()
    assert page.status == 200 and 'name="password"' in text and "Waiting calls" not in text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"


async def test_login_sets_a_strict_httponly_cookie_and_escapes_the_page(client: Client
                                                                        ) -> None:
    response = await login(client, "AMY", PASSWORD)
    assert response.status == 303 and response.headers["Location"] == "/dashboard/"
    cookie = response.cookies["ivr_dashboard"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert len(cookie.value) >= 43
    page = await client.get("/dashboard/")
    text = await page.text()
    assert page.status == 200 and "Amy &lt;b&gt;&amp;&lt;/b&gt;" in text and "<b>" not in text
    assert (await client.get("/dashboard/api/queue")).status == 200
    again = await client.get("/dashboard/login", allow_redirects=False)
    assert again.status == 302  # already logged in


async def test_secure_cookie_when_public_url_is_https(tmp_path: Path) -> None:
    async with dashboard_env(tmp_path, public_url="https://ivr.example.com") as env:
        await env.agents.add("amy", PASSWORD, display_name="Amy", target=target(),
                             languages=["zh"])
        async with TestClient(TestServer(env.app)) as client:
            token = await login_form_token(client)  # a Secure cookie: not sent back over http
            response = await client.post(
                "/dashboard/login", allow_redirects=False,
                headers={"Cookie": f"__Host-ivr_dashboard_login={token}"},
                data={"username": "amy", "password": PASSWORD, "csrf_token": token})
            assert response.status == 303
            cookie = response.cookies["__Host-ivr_dashboard"]
            assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"


async def test_wrong_password_then_back_off(client: Client, env: Env) -> None:
    response = await login(client, "amy", "wrong password")
    assert response.status == 401
    assert "Wrong username or password" in await response.text()
    again = await login(client, "amy", PASSWORD)  # right password, but within the back-off
    assert again.status == 429 and "Too many failed attempts" in await again.text()
    assert int(again.headers["Retry-After"]) >= 1
    assert "ivr_dashboard" not in again.cookies


async def test_login_needs_the_form_token_and_same_origin(client: Client) -> None:
    await login_form_token(client)
    missing = await client.post("/dashboard/login", allow_redirects=False,
                                data={"username": "amy", "password": PASSWORD})
    assert missing.status == 403
    token = await login_form_token(client)
    cross = await client.post("/dashboard/login", allow_redirects=False,
                              headers={"Origin": "https://evil.example"},
                              data={"username": "amy", "password": PASSWORD,
                                    "csrf_token": token})
    assert cross.status == 403
    wrong = await client.post("/dashboard/login", allow_redirects=False,
                              data={"username": "amy", "password": PASSWORD,
                                    "csrf_token": token + "x"})
    assert wrong.status == 403


async def test_state_changes_need_the_session_csrf_token(client: Client) -> None:
    csrf = await logged_in(client, "amy", PASSWORD)
    url = "/dashboard/api/presence"
    assert (await client.post(url, json={"presence": "available"})).status == 403
    bad = await client.post(url, json={"presence": "available"},
                            headers={"X-CSRF-Token": csrf[:-1] + ("B" if csrf[-1] == "A" else "A")})
    assert bad.status == 403 and (await bad.json())["error"] == "csrf"
    cross = await client.post(url, json={"presence": "available"},
                              headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert cross.status == 403
    ok = await client.post(url, json={"presence": "available"}, headers={"X-CSRF-Token": csrf})
    assert ok.status == 200 and (await ok.json())["presence"] == "available"
    invalid = await client.post(url, json={"presence": "asleep"},
                                headers={"X-CSRF-Token": csrf})
    assert invalid.status == 400
    no_csrf_logout = await client.post("/dashboard/logout", allow_redirects=False, data={})
    assert no_csrf_logout.status == 403
    out = await client.post("/dashboard/logout", allow_redirects=False,
                            data={"csrf_token": csrf})
    assert out.status == 303 and out.headers["Location"] == "/dashboard/login"
    assert (await client.get("/dashboard/api/queue")).status == 401


async def test_idle_session_expires(tmp_path: Path) -> None:
    async with dashboard_env(tmp_path, policy=SessionPolicy(idle_s=0.2)) as env:
        await env.agents.add("amy", PASSWORD, display_name="Amy", target=target(),
                             languages=["zh"])
        async with TestClient(TestServer(env.app)) as client:
            await logged_in(client, "amy", PASSWORD)
            await asyncio.sleep(0.3)
            assert (await client.get("/dashboard/api/queue")).status == 401


async def test_dashboard_answers_503_when_not_wired(tmp_path: Path) -> None:
    async with dashboard_env(tmp_path) as env:
        env.services.agents = None
        async with TestClient(TestServer(env.app)) as client:
            assert (await client.get("/dashboard/login")).status == 503
            response = await client.post("/dashboard/login", data={"username": "amy"})
            assert response.status == 503
