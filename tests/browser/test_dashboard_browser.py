"""The agent dashboard in a real headless Chromium: login, live queue over SSE, context
card, Accept, wrap-up, the "already taken" race, and what a logged-out browser gets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ivr.core.types import Language, Priority
from ivr.store.records import CallRecord, Role, TurnRecord
from tests.agents.support import PASSWORD, card
from tests.browser.conftest import GatedHandoff, Launch, Site

expect = pytest.importorskip("playwright.async_api").expect
pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=\"alert('xss')\"><script>alert('xss')</script>"


async def _login(page: Any, site: Site, username: str) -> None:
    await page.goto(f"{site.url}/dashboard/")
    assert page.url.endswith("/dashboard/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await page.wait_for_url(f"{site.url}/dashboard/")
    await page.wait_for_selector("#connection.live")


async def _call(site: Site, sid: str) -> None:
    await site.env.calls.create_call(CallRecord(call_sid=sid, language=Language.ZH,
                                                details={"faq_topics": ["activation"]}))
    await site.env.calls.add_turn(TurnRecord(call_sid=sid, role=Role.BOT, text="请问还有什么"))
    await site.env.calls.add_turn(TurnRecord(call_sid=sid, role=Role.CALLER, text=XSS))


async def test_live_queue_accept_and_wrapup(site: Site, browser: Launch) -> None:
    async with browser() as page:
        await _login(page, site, "zh1")
        assert await page.text_content("#me") == "Zhou <i>One</i> (agent; zh)"
        assert await page.is_visible("#queue-empty")
        await page.evaluate("window.notReloaded = true")
        await _call(site, "CA100")
        entry = await site.env.queue.enqueue("CA100", XSS, Priority.URGENT, Language.ZH,
                                             card())
        row = page.locator(f"#entry-{entry.id}")
        await row.wait_for()  # pushed over SSE, no reload
        assert await page.evaluate("window.notReloaded") is True
        assert "张**" in await row.inner_text()
        assert await row.locator("td").nth(2).text_content() == XSS
        await expect(row.locator("td.wait")).not_to_have_text("0:00", timeout=5000)  # ticks
        await row.click()
        await page.wait_for_selector("#card-panel:not([hidden])")
        transcript = page.locator("#transcript li.caller .text")
        assert await transcript.text_content() == XSS
        assert await page.locator("#transcript img").count() == 0
        await row.locator("button.accept").click()
        await page.wait_for_selector(f"#entry-{entry.id}", state="detached")
        assert "accepted" in (await page.text_content("#notice") or "")
        await page.wait_for_selector("#wrapup-form:not([hidden])")
        await page.select_option("#disposition", "resolved")
        await page.fill("#notes", "explained the fee <b>schedule</b>")
        await page.click("#wrapup-save")
        await page.wait_for_selector("#wrapup-status:has-text('Wrap-up saved.')")
        call = await site.env.calls.get_call("CA100")
        assert call is not None
        assert call.details["wrapup"]["disposition"] == "resolved"
        assert call.details["wrapup"]["notes"] == "explained the fee <b>schedule</b>"
        assert call.details["wrapup"]["agent"] == "Zhou <i>One</i>"
        assert page.dialogs == []  # type: ignore[attr-defined]


async def test_second_agent_gets_already_taken(site: Site, browser: Launch) -> None:
    gated = GatedHandoff(site.env.handoff)
    site.env.services.handoff = gated
    async with browser() as first, browser() as second:
        await _login(first, site, "zh1")
        await _login(second, site, "zh2")
        entry = await site.env.queue.enqueue("CA200", "request", Priority.NORMAL,
                                             Language.ZH, card())
        selector = f"#entry-{entry.id} button.accept"
        await first.wait_for_selector(selector)
        await second.wait_for_selector(selector)
        await first.click(selector)
        assert await asyncio.wait_for(gated.arrivals.get(), 5) == "zh1"
        await second.click(selector)
        assert await asyncio.wait_for(gated.arrivals.get(), 5) == "zh2"
        gated.gate.set()  # both clicked before either was decided
        await first.wait_for_selector("#notice:has-text('accepted')")
        await second.wait_for_selector("#notice:has-text('already taken')")
        await second.wait_for_selector(f"#entry-{entry.id}", state="detached")
        winner = await site.env.agents.by_username("zh1")
        assert winner is not None and gated.accepted == [(entry.id, winner.id)]


async def test_logged_out_browser_sees_the_login_page_and_no_events(site: Site,
                                                                     browser: Launch) -> None:
    await site.env.queue.enqueue("CA300", "secret reason", Priority.NORMAL, Language.ZH,
                                 card())
    async with browser() as page:
        await page.goto(f"{site.url}/dashboard/")
        assert page.url == f"{site.url}/dashboard/login"
        assert await page.is_visible("#login-form")
        assert "secret reason" not in await page.content()
        status = await page.evaluate("fetch('/dashboard/events').then(r => r.status)")
        assert status == 401
        await page.fill("#username", "zh1")
        await page.fill("#password", "not the password")
        await page.click("#login-button")
        await page.wait_for_selector("#login-error:has-text('Wrong username or password')")
        await asyncio.sleep(1.1)  # one failure: the next attempt waits 1 s (login back-off)
        await _login(page, site, "zh1")
        await page.click("#logout")
        await page.wait_for_url(f"{site.url}/dashboard/login")
        status = await page.evaluate("fetch('/dashboard/events').then(r => r.status)")
        assert status == 401
