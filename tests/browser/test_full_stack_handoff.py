"""The whole handoff, every part real: a simulated caller asks for an agent through `ivr serve`
(Rasa, Vosk, pyttsx3), an agent logged in to the dashboard in Chromium sees the call arrive live,
accepts it, the transfer reaches the provider's REST API (a local server speaking Twilio's
contract), and the agent files the wrap-up."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
import requests

from ivr.sim.phone import PhoneSimulator, SimOptions, new_sid
from ivr.sim.script import load_script
from tests.browser.conftest import Launch
from tests.e2e.conftest import AUTH_TOKEN, IVR, ROOT, start_server
from tests.telephony.fake_twilio_rest import FakeTwilioRest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ACCOUNT = "AC" + "1" * 32
AGENT_PHONE = "+8613900001234"
PASSWORD = "correct horse battery staple"


async def test_agent_accepts_a_live_escalated_call(tmp_path: Path, browser: Launch) -> None:
    async with FakeTwilioRest(account_sid=ACCOUNT, auth_token=AUTH_TOKEN) as fake:
        server = start_server(tmp_path, IVR_TWILIO_ACCOUNT_SID=ACCOUNT,
                              IVR_TWILIO_API_BASE_URL=fake.base_url,
                              IVR_AGENTS_MAX_WAIT_S="120")
        try:
            subprocess.run(  # noqa: ASYNC221 - once, before the call starts
                [str(IVR), "agents", "add", "alice", "--display-name", "Alice",
                 "--languages", "zh,en", "--transfer-kind", "phone",
                 "--transfer-address", AGENT_PHONE, "--password-stdin",
                 "--db", server.env["IVR_STORE_SQLITE_PATH"]],
                input=PASSWORD.encode(), check=True, capture_output=True,
            )
            sid = new_sid("CA")
            fake.add_call(sid)
            sim = PhoneSimulator(SimOptions(base_url=server.url, auth_token=AUTH_TOKEN))
            script = load_script(ROOT / "audio" / "fixtures" / "zh" / "agent_request"
                                 / "script.yaml")
            async with browser() as page:
                await page.goto(f"{server.url}/dashboard/")
                await page.fill("#username", "alice")
                await page.fill("#password", PASSWORD)
                await page.click("#login-button")
                await page.wait_for_selector("#me")
                call = asyncio.create_task(sim.call(script, call_sid=sid))
                row = page.locator("tr[id^='entry-']").first
                await row.wait_for(timeout=90_000)  # pushed live while the caller holds
                assert "agent_request" in await row.inner_text()
                before = len(fake.requests)
                clicked = time.monotonic()
                await row.locator("button.accept").click()
                transfer = None
                while transfer is None and time.monotonic() - clicked < 30:
                    transfer = next((r for r in fake.requests[before:]
                                     if r.path.endswith(f"/Calls/{sid}.json")), None)
                    await asyncio.sleep(0.002)
                assert transfer is not None, server.log_tail()
                accept_to_provider_ms = (time.monotonic() - clicked) * 1000
                print(f"accept click -> transfer request at provider: "
                      f"{accept_to_provider_ms:.0f} ms")
                assert f"<Number>{AGENT_PHONE}</Number>" in transfer.form["Twiml"]
                await page.wait_for_selector("#wrapup-form:not([hidden])")
                await page.select_option("#disposition", "resolved")
                await page.fill("#notes", "caller wanted a person; helped")
                await page.click("#wrapup-save")
                await page.wait_for_selector("#wrapup-status:has-text('Wrap-up saved.')")
                result = await asyncio.wait_for(call, 60)
            record = requests.get(f"{server.url}/api/calls/{sid}", timeout=5).json()  # noqa: ASYNC210
            assert record["outcome"] == "escalated"
            assert record["escalation_reason"] == "agent_request"
            assert record["details"]["queue_result"] == "transferred"
            assert record["details"]["wrapup"]["disposition"] == "resolved"
            assert result.ended_by == "server"
        finally:
            assert server.stop() == 0
