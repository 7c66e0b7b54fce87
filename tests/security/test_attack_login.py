"""Attacks on the dashboard login (issue 9). Before: the limit was per username only, so anyone
could lock any agent out (the right password then got 429), concurrent guesses raced the
check, and one client could try any number of usernames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from ivr.agents import accounts, login
from ivr.telephony.base import TransferKind, TransferTarget
from tests.agents.dashboard_client import login_form_token
from tests.security.harness import Harness, harness

PASSWORD = "correct horse battery"
ATTACKER = "203.0.113.66"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Harness]:
    env = {"IVR_SERVER_PUBLIC_URL": "http://ivr.example.com",
           "IVR_SERVER_TRUSTED_PROXIES": "127.0.0.1"}  # a same-host reverse proxy
    async with harness(tmp_path, env) as h:
        assert h.services.agents is not None
        for name in ("amy", "ben", "cat"):
            await h.services.agents.add(name, PASSWORD, display_name=name, languages=["zh"],
                                        target=TransferTarget(TransferKind.PHONE,
                                                              "+8613900001234"))
        yield h


class Browser:
    """One browser (its own cookie jar) behind one client address."""

    def __init__(self, h: Harness, address: str) -> None:
        self.h, self.address = h, address
        self.http = aiohttp.ClientSession(base_url=h.http_url(""),
                                          cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def login(self, username: str, password: str) -> aiohttp.ClientResponse:
        page = await self.http.get("/dashboard/login",
                                   headers={"X-Forwarded-For": self.address})
        token = (await page.text()).split('name="csrf_token" value="')[1].split('"')[0]
        return await self.http.post(
            "/dashboard/login", allow_redirects=False,
            headers={"X-Forwarded-For": self.address},
            data={"username": username, "password": password, "csrf_token": token})

    async def logout_session(self) -> None:
        self.http.cookie_jar.clear(lambda c: c.key == "ivr_dashboard")

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def browsers(site: Harness) -> AsyncIterator[Callable[[str], Browser]]:
    made: list[Browser] = []

    def make(address: str) -> Browser:
        made.append(Browser(site, address))
        return made[-1]

    yield make
    for browser in made:
        await browser.close()


async def attack(site: Harness, attacker: Browser, username: str, guesses: int) -> list[int]:
    statuses = []
    for _ in range(guesses):
        site.clock.advance(1000)  # the attacker waits out every back-off
        statuses.append((await attacker.login(username, "wrong guess 123")).status)
    return statuses


async def test_others_failures_never_keep_an_agent_out_of_their_browser(
        site: Harness, browsers: Callable[[str], Browser]) -> None:
    amy = browsers("198.51.100.7")
    assert (await amy.login("amy", PASSWORD)).status == 303  # her usual browser
    await amy.logout_session()
    attacker = browsers(ATTACKER)
    for _ in range(10):  # hammering without waiting, and with waiting
        await attacker.login("amy", "guess")
    await attack(site, attacker, "amy", 5)
    assert (await attacker.login("amy", "guess")).status in (401, 429)
    response = await amy.login("amy", PASSWORD)
    assert response.status == 303, await response.text()


async def test_username_back_off_is_a_wait_not_a_lock(
        site: Harness, browsers: Callable[[str], Browser]) -> None:
    attacker = browsers(ATTACKER)
    assert await attack(site, attacker, "ben", 3) == [401, 401, 401]
    fresh = browsers("198.51.100.8")  # a new browser: the username's back-off applies ...
    refused = await fresh.login("ben", PASSWORD)
    assert refused.status == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= site.config.agents.login_backoff_max_s
    site.clock.advance(wait)  # ... but it ends, and the right password then works
    assert (await fresh.login("ben", PASSWORD)).status == 303


async def test_one_client_cannot_spray_usernames(
        site: Harness, browsers: Callable[[str], Browser]) -> None:
    attacker = browsers(ATTACKER)
    first = await attacker.login("amy", "guess one")
    assert first.status == 401
    sprayed = [(await attacker.login(name, "guess")).status for name in ("ben", "cat", "dan")]
    assert sprayed == [429, 429, 429]
    # Waits grow: 1 s after one failure, 2 s after two, 4 s after three ...
    waits = []
    for _ in range(4):
        site.clock.advance(10_000 if not waits else waits[-1])
        assert (await attacker.login("zed", "guess")).status == 401
        refused = await attacker.login("zed", "guess")
        waits.append(int(refused.headers["Retry-After"]))
    assert waits == sorted(waits) and waits[-1] > waits[0]
    # Other clients are not affected by this one.
    assert (await browsers("198.51.100.9").login("cat", PASSWORD)).status == 303


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(
        tmp_path: Path) -> None:
    async with harness(tmp_path, {"IVR_SERVER_PUBLIC_URL": "http://ivr.example.com"}) as h:
        assert h.services.agents is not None
        await h.services.agents.add("amy", PASSWORD, display_name="a", languages=["zh"],
                                    target=TransferTarget(TransferKind.PHONE, "+8613900001234"))
        one, two = Browser(h, "192.0.2.1"), Browser(h, "192.0.2.2")
        try:
            assert (await one.login("amy", "wrong")).status == 401
            assert (await two.login("nobody", "wrong")).status == 429  # same real client
        finally:
            await one.close()
            await two.close()


async def test_concurrent_guesses_do_not_race_the_limit(
        site: Harness, browsers: Callable[[str], Browser]) -> None:
    attackers = [browsers(ATTACKER) for _ in range(8)]
    tokens = [await login_form_token_for(b) for b in attackers]
    results = await asyncio.gather(*(
        b.http.post("/dashboard/login", allow_redirects=False,
                    headers={"X-Forwarded-For": b.address},
                    data={"username": "amy", "password": f"guess {i}", "csrf_token": t})
        for i, (b, t) in enumerate(zip(attackers, tokens, strict=True))))
    statuses = sorted(r.status for r in results)
    assert statuses == [401] + [429] * 7  # exactly one guess was checked


async def login_form_token_for(browser: Browser) -> str:
    page = await browser.http.get("/dashboard/login",
                                  headers={"X-Forwarded-For": browser.address})
    return (await page.text()).split('name="csrf_token" value="')[1].split('"')[0]


async def test_every_attempt_costs_one_password_hash(
        site: Harness, browsers: Callable[[str], Browser],
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = accounts.verify_password

    def counting(password: str, stored: str) -> bool:
        calls.append(password)
        return real(password, stored)

    monkeypatch.setattr(accounts, "verify_password", counting)
    monkeypatch.setattr(login, "verify_password", counting)
    attacker = browsers(ATTACKER)
    cases: list[tuple[str, str, int]] = [
        ("nobody", "x1", 401),  # unknown user
        ("amy", "x2", 429),  # refused by the back-off
        ("ben", "x3", 429),
    ]
    for username, password, expected in cases:
        before = len(calls)
        response = await attacker.login(username, password)
        assert response.status == expected
        assert len(calls) - before == 1, (username, calls[before:])
    site.clock.advance(5)
    before = len(calls)
    assert (await attacker.login("amy", "wrong")).status == 401  # known user, wrong password
    assert len(calls) - before == 1


async def test_login_csrf_is_still_required(site: Harness,
                                            browsers: Callable[[str], Browser]) -> None:
    browser = browsers("198.51.100.10")
    await login_form_token(site.client)
    response = await browser.http.post("/dashboard/login", allow_redirects=False,
                                       data={"username": "amy", "password": PASSWORD})
    assert response.status == 403
