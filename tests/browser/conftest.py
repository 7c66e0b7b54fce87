"""Browser tests: Debian's Chromium driven by Playwright against the dashboard served by a
real aiohttp server on loopback (the stores are real SQLite; no browser download needed)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from ivr.agents.accounts import Agent
from tests.agents.support import PASSWORD, DirectHandoff, Env, dashboard_env, target

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

playwright_api = pytest.importorskip("playwright.async_api")
if shutil.which(CHROMIUM) is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


class GatedHandoff(DirectHandoff):
    """Holds every Accept until ``release()``, then serves them in arrival order, so a test
    can have two agents click Accept on the same call before either request is decided."""

    def __init__(self, handoff: DirectHandoff) -> None:
        super().__init__(handoff.queue)
        self.gate = asyncio.Event()
        self.arrivals: asyncio.Queue[str] = asyncio.Queue()
        self._lock = asyncio.Lock()

    async def accept(self, entry_id: int, agent: Agent) -> None:
        self.arrivals.put_nowait(agent.username)
        await self.gate.wait()
        async with self._lock:
            await super().accept(entry_id, agent)


@dataclass
class Site:
    env: Env
    url: str


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with dashboard_env(tmp_path) as env:
        await env.agents.add("zh1", PASSWORD, display_name="Zhou <i>One</i>", target=target(1),
                             languages=["zh"])
        await env.agents.add("zh2", PASSWORD, display_name="Zhao", target=target(2),
                             languages=["zh", "en"])
        server = TestServer(env.app, host="127.0.0.1")
        await server.start_server()
        try:
            yield Site(env, str(server.make_url("")).rstrip("/"))
        finally:
            await server.close()


Launch = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Launch]:
    """``async with browser() as page``: a fresh Chromium (own --user-data-dir) and a page."""
    async with playwright_api.async_playwright() as pw:
        count = [0]

        @contextlib.asynccontextmanager
        async def launch() -> AsyncIterator[Any]:
            count[0] += 1
            profile = tmp_path / f"profile-{count[0]}"
            context = await pw.chromium.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                page.set_default_timeout(10_000)
                dialogs: list[str] = []
                page.on("dialog", lambda d: dialogs.append(d.message))
                page.dialogs = dialogs
                yield page
            finally:
                await context.close()

        yield launch


async def log_in_available(page: Any, base_url: str, username: str, password: str) -> None:
    """Log in to the dashboard and set presence to available, as an agent starting a shift
    does (an agent who is away is not there: callers are told at once that nobody is)."""
    await page.goto(f"{base_url}/dashboard/")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-button")
    await page.wait_for_selector("#me")
    async with page.expect_response(lambda r: r.url.endswith("/dashboard/api/presence")) as info:
        await page.select_option("#presence", "available")
    assert (await info.value).status == 200
