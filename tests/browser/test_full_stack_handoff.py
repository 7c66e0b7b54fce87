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

from ivr.core.types import Language
from ivr.sim.phone import PhoneSimulator, SimOptions, new_sid
from ivr.sim.script import CallerTurn, CallScript, load_script
from tests.browser.conftest import Launch, log_in_available
from tests.e2e.conftest import API_HEADERS, API_TOKEN, AUTH_TOKEN, IVR, ROOT, start_server
from tests.telephony.fake_twilio_rest import FakeTwilioRest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ACCOUNT = "AC" + "1" * 32
AGENT_PHONE = "+8613900001234"
PASSWORD = "correct horse battery staple"
FIXTURES = ROOT / "audio" / "fixtures" / "zh" / "agent_request"


def _wait_in_queue(hold_ms: int) -> CallScript:
    """Asks for an agent, then hangs up after ``hold_ms`` of bot audio (announcement + hold)."""
    base = load_script(FIXTURES / "script.yaml")
    return CallScript(name="queue-then-hangup", lang=Language.ZH, customer=base.customer,
                      turns=(*base.turns, CallerTurn(hangup=True, barge_in_ms=hold_ms)))


def _api(url: str) -> dict[str, object]:
    resp = requests.get(url, timeout=5, headers=API_HEADERS)
    resp.raise_for_status()
    body: dict[str, object] = resp.json()
    return body


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
            sim = PhoneSimulator(SimOptions(base_url=server.url, auth_token=AUTH_TOKEN,
                                            api_token=API_TOKEN))
            script = load_script(ROOT / "audio" / "fixtures" / "zh" / "agent_request"
                                 / "script.yaml")
            async with browser() as page:
                await log_in_available(page, server.url, "alice", PASSWORD)
                call = asyncio.create_task(sim.call(script, call_sid=sid))
                row = page.locator("tr[id^='entry-']").first
                await row.wait_for(timeout=90_000)  # pushed live while the caller holds
                assert "agent_request" in await row.inner_text()
                # 1) the provider refuses the transfer: the caller goes back to the head
                fake.fail_next(500, 20500, "Internal Server Error")
                await row.locator("button.accept").click()
                await page.wait_for_selector("#notice:has-text('failed')", timeout=20_000)
                await row.wait_for(timeout=20_000)  # back in the queue, at the head
                # 2) the next Accept goes through
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
            record = _api(f"{server.url}/api/calls/{sid}")
            assert record["outcome"] == "escalated"
            assert record["escalation_reason"] == "agent_request"
            details = record["details"]
            assert isinstance(details, dict)
            assert details["queue_result"] == "transferred"
            assert details["wrapup"]["disposition"] == "resolved"
            events = [e["kind"] for e in record["events"]]  # type: ignore[attr-defined]
            assert "transfer_failed" in events and "transferred" in events
            assert result.ended_by == "server"

            # 3) a caller who hangs up while queued is recorded as abandoned, with the wait
            gone = await sim.call(_wait_in_queue(8000))
            record = _api(f"{server.url}/api/calls/{gone.call_sid}")
            assert record["outcome"] == "abandoned", server.log_tail()
            details = record["details"]
            assert isinstance(details, dict) and details["queue_result"] == "abandoned"
            assert details["queue_wait_s"] > 0
            metrics = requests.get(f"{server.url}/metrics", timeout=5,  # noqa: ASYNC210
                                   headers=API_HEADERS).text
            assert "ivr_agent_queue_handled_today 1.0" in metrics, metrics
            assert "ivr_agent_queue_abandoned_today 1.0" in metrics, metrics

            # 4) the IVR stops with a caller queued: after the restart a callback is booked
            waiting = asyncio.create_task(sim.call(_wait_in_queue(60_000), record=False))
            while not waiting.done() and not _queue_length(server.url):  # noqa: ASYNC110
                await asyncio.sleep(0.5)
            assert server.stop() == 0
            held = await asyncio.wait_for(waiting, 30)
        finally:
            server.stop()
        restarted = start_server(tmp_path, IVR_TWILIO_ACCOUNT_SID=ACCOUNT,
                                 IVR_TWILIO_API_BASE_URL=fake.base_url)
        try:
            followups = _api(f"{restarted.url}/api/followups?call_sid={held.call_sid}")
            kinds = [f["kind"] for f in followups["followups"]]  # type: ignore[attr-defined]
            assert kinds == ["callback"], restarted.log_tail()
            record = _api(f"{restarted.url}/api/calls/{held.call_sid}")
            assert record["error_code"] == "shutdown"
        finally:
            assert restarted.stop() == 0


def _queue_length(url: str) -> int:
    """Callers waiting in the agent queue, from the metrics endpoint."""
    for line in requests.get(f"{url}/metrics", timeout=5, headers=API_HEADERS).text.splitlines():
        if line.startswith("ivr_agent_queue_queue_length "):
            return int(float(line.split()[1]))
    return 0
