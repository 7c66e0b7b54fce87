"""The whole stack: ``ivr serve`` (IVR + Rasa + action server) dials a 15-customer campaign
through the fake carrier (Twilio's REST contract + signed status/AMD callbacks), the phone
simulator answers as the callee with recorded audio, and ``ivr campaign report`` is checked.

Needs the campaign service wired into the app (``Services.campaigns``, the dialer started
in the app's cleanup context, ``on_call_status`` in the status webhook, ``on_call_finished``
when a session ends, ``campaigns_api.setup``, ``ivr campaign`` in the CLI).
"""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from ivr.sim.outbound import OutboundPhone
from ivr.sim.phone import SimOptions
from ivr.sim.script import CallScript, load_script
from tests.campaigns.carrier import FakeCarrier, PlacedCall
from tests.e2e.conftest import API_HEADERS, API_TOKEN, AUTH_TOKEN, IVR, ROOT, Server, start_server

pytestmark = [
    pytest.mark.e2e,
]

FIXTURES = ROOT / "audio" / "fixtures" / "zh"
CALLER_ID = "+8610900000000"
# customer → what their phone does on each attempt ("answer:<fixture>" plays that script).
PLANS: dict[str, list[str]] = {
    # three plain answers are enough: the concurrency cap and pacing are exercised by the
    # unreached attempts too, and every answered call costs ~2 minutes of real audio.
    **{f"E{i:02d}": ["answer:happy_path"] for i in range(1, 4)},
    "E09": ["answer:wrong_party"], "E10": ["answer:wrong_party"],
    "E11": ["busy", "answer:happy_path"],
    "E12": ["busy", "answer:happy_path"],
    "E13": ["no-answer"] * 3, "E14": ["no-answer"] * 3,
    "E15": ["machine"] * 3, "E16": ["machine"] * 3,
    "E17": ["answer:agent_request"], "E18": ["answer:agent_request"],
    "E19": ["answer:happy_path"],  # on the do-not-call list: never dialled
    "E20": ["failed"] * 3,  # no fallback channel
}


def phone(cid: str) -> str:
    return f"+861390000{int(cid[1:]):04d}"


def customers_file(tmp: Path) -> Path:
    rows = [{
        "customer_id": cid, "name": "张伟", "title": "张先生", "language": "zh",
        "city": "上海", "phone": phone(cid), "id_last4": "1234", "card_last4": "6789",
        "application_status": "pre_review_passed", "activation_status": "active",
        "pre_review_passed_at": "now-8d", "marketing_opt_out": False,
        "preferred_channel": "none" if cid == "E20" else "sms", "recent_transactions": [],
    } for cid in PLANS]
    path = tmp / "campaign-customers.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.timeout(1500)
async def test_campaign_through_the_real_ivr(tmp_path: Path) -> None:
    scripts: dict[str, CallScript] = {}
    by_phone = {phone(cid): list(steps) for cid, steps in PLANS.items()}
    results: list[tuple[str, str]] = []
    holder: list[Server] = []

    async def answer(call: PlacedCall) -> None:
        cid = parse_qs(urlsplit(call.answer_url).query)["customer_id"][0]
        name = next(s for s in PLANS[cid] if s.startswith("answer:")).split(":", 1)[1]
        script = scripts.setdefault(name, load_script(FIXTURES / name / "script.yaml"))
        sim = OutboundPhone(SimOptions(base_url=holder[0].url, auth_token=AUTH_TOKEN,
                                       api_token=API_TOKEN))
        result = await sim.answer(call.answer_url, call.sid, script, to=call.to,
                                  from_=call.from_, record=False)
        results.append((cid, result.ended_by))

    plans = {number: [s.split(":", 1)[0] for s in steps] for number, steps in by_phone.items()}
    carrier = FakeCarrier(plans, answer, auth_token=AUTH_TOKEN, default="no-answer",
                          hangup_wait_s=30)
    await carrier.start()
    server = await asyncio.to_thread(
        start_server, tmp_path, IVR_TWILIO_API_BASE_URL=carrier.base_url,
        IVR_TWILIO_ACCOUNT_SID=carrier.account_sid, IVR_TWILIO_CALLER_ID=CALLER_ID,
        IVR_AGENTS_MAX_WAIT_S="5")
    holder.append(server)
    db = server.env["IVR_STORE_SQLITE_PATH"]
    try:
        await asyncio.to_thread(
            subprocess.run, [str(IVR), "customers", "import", str(customers_file(tmp_path)),
                             "--db", db], check=True, capture_output=True, env=server.env)
        async with aiohttp.ClientSession(base_url=server.url,
                                         headers=API_HEADERS) as http:
            policy = {"windows": "00:00-24:00", "weekend_windows": "00:00-24:00",
                      "holiday_windows": "00:00-24:00", "max_attempts": 3,
                      "retry_backoff_s": 2.0, "max_concurrent": 4, "calls_per_second": 2.0,
                      "machine_detection": True}
            resp = await http.post("/api/campaigns", json={"id": "e2e", "name": "E2E",
                                                           "policy": policy})
            assert resp.status == 201, await resp.text()
            resp = await http.post("/api/campaigns/e2e/targets",
                                   json={"customer_ids": list(PLANS)})
            assert (await resp.json())["added"] == len(PLANS) == 15
            await http.post("/api/campaigns/e2e/dnc", json={"customer_ids": ["E19"]})
            assert (await http.post("/api/campaigns/e2e/start")).status == 200
            deadline = time.monotonic() + 1200
            status: dict[str, object] = {}
            while time.monotonic() < deadline:
                status = await (await http.get("/api/campaigns/e2e")).json()
                if status["state"] == "done":
                    break
                await asyncio.sleep(1)
            assert status.get("state") == "done", f"{status}\n{server.log_tail()}"
        await carrier.idle()
        assert carrier.errors == [], server.log_tail()
        assert 1 < carrier.peak_live <= 4
        out = tmp_path / "report"
        await asyncio.to_thread(
            subprocess.run, [str(IVR), "campaign", "report", "e2e", "--out", str(out),
                             "--db", db], check=True, capture_output=True, env=server.env)
    finally:
        server.stop()
        await carrier.close()

    with (out / "summary.csv").open(encoding="utf-8") as fh:
        rows = {r["metric"]: r["value"] for r in csv.DictReader(fh)}
    assert rows["targets"] == "15" and rows["dialled"] == "14"
    assert rows["reached"] == "9", rows
    assert rows["completed"] == "5", rows
    assert rows["outcome:wrong_party"] == "2" and rows["outcome:escalated"] == "2", rows
    assert rows["escalation_reason:agent_request"] == "2", rows
    assert rows["voicemail"] == "6" and rows["busy"] == "2" and rows["no_answer"] == "6"
    assert rows["fallback_sms"] == "4", rows
    assert rows["target_state:skipped"] == "1" and rows["target_state:failed"] == "1"
    assert {m.to for m in carrier.messages.values()} == {phone(c) for c in
                                                          ("E13", "E14", "E15", "E16")}
    dials = [r for r in carrier.requests if r.path.endswith("/Calls.json")]
    assert len(dials) == 5 + 2 * 2 + 3 * 4 + 2 + 3  # 26: nobody dialled twice per attempt
    assert all(parse_qs(urlsplit(r.form["Url"]).query)["campaign_id"] == ["e2e"] for r in dials)
    assert len(results) == 9
    for name in ("report.html", "funnel.png", "ratings.png", "escalations.png",
                 "faq_topics.png", "latency.png", "targets.csv"):
        assert (out / name).stat().st_size > 0
