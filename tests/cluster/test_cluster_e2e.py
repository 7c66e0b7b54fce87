"""Two real workers (``ivr serve`` with their own Rasa and action servers) on one PostgreSQL
and one Redis, both started by the test harness: calls on both, media landing on the worker
that did not answer the webhook, Rasa conversations continued by the other Rasa, an
escalation held on worker B accepted in Chromium on worker A's dashboard (the transfer is
made by B), a campaign dialled by both workers -- and worker B killed mid-campaign and
mid-call: its live call ends as failed, its queued caller gets a callback from A, its leased
targets go back to the queue and are dialled by A, nobody is dialled twice, A goes on."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import asyncpg
import psutil
import pytest

from ivr.cluster.services import LocalPostgres, LocalRedis, free_port
from ivr.core.types import Language
from ivr.dialogue.bridge import CHANNEL_PATH, TOKEN_HEADER
from ivr.sim.outbound import OutboundPhone
from ivr.sim.phone import PhoneSimulator, SimOptions, new_sid
from ivr.sim.script import CallerTurn, CallScript, load_script
from tests.browser.conftest import (  # noqa: F401 - the fixture
    Launch,
    browser,
    log_in_available,
)
from tests.campaigns.carrier import FakeCarrier, PlacedCall
from tests.e2e.conftest import AUTH_TOKEN, IVR, ROOT, Server, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LB = "http://ivr.cluster.test"  # the provider-facing URL both workers share (signatures)
API_TOKEN = "cluster-test-api-token"
RASA_TOKEN = "cluster-test-rasa-token"
SERVER_KEY = "cluster-test-server-key-0123456789abcdef"
PASSWORD = "correct horse battery staple"
AGENT_PHONE = "+8613900001234"
FIXTURES = ROOT / "audio" / "fixtures" / "zh"
CAMPAIGN = [f"K{i:02d}" for i in range(1, 7)]


def phone(cid: str) -> str:
    return f"+861380000{int(cid[1:]):04d}"


def _customers(tmp: Path) -> Path:
    import json

    rows = [{"customer_id": cid, "name": "张伟", "title": "张先生", "language": "zh",
             "city": "上海", "phone": phone(cid), "id_last4": "1234", "card_last4": "6789",
             "application_status": "pre_review_passed", "activation_status": "active",
             "pre_review_passed_at": "now-8d", "marketing_opt_out": False,
             "preferred_channel": "none", "recent_transactions": []} for cid in CAMPAIGN]
    path = tmp / "cluster-customers.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def _queued_then_hangup(hold_ms: int) -> CallScript:
    base = load_script(FIXTURES / "agent_request" / "script.yaml")
    return CallScript(name="queue-then-hangup", lang=Language.ZH, customer=base.customer,
                      turns=(*base.turns, CallerTurn(hangup=True, barge_in_ms=hold_ms)))


class Cluster:
    def __init__(self, tmp: Path, db_url: str, redis_url: str, carrier: FakeCarrier) -> None:
        self.tmp, self.db_url, self.redis_url, self.carrier = tmp, db_url, redis_url, carrier
        self.workers: dict[str, Server] = {}

    def start(self, name: str) -> Server:
        port = free_port()
        (self.tmp / name).mkdir(parents=True, exist_ok=True)
        server = start_server(
            self.tmp / name, port=port, IVR_STORE_URL=self.db_url,
            IVR_CLUSTER_REDIS_URL=self.redis_url, IVR_CLUSTER_WORKER_ID=name,
            IVR_CLUSTER_WORKER_URL=f"http://127.0.0.1:{port}", IVR_SERVER_PUBLIC_URL=LB,
            IVR_CLUSTER_HEARTBEAT_S="1", IVR_CLUSTER_DEAD_AFTER_S="5",
            IVR_CLUSTER_LEASE_S="15", IVR_SERVER_MAX_CALLS="4", IVR_SERVER_API_TOKEN=API_TOKEN,
            IVR_AGENTS_MAX_WAIT_S="300", IVR_TWILIO_ACCOUNT_SID=self.carrier.account_sid,
            IVR_TWILIO_API_BASE_URL=self.carrier.base_url,
            IVR_TWILIO_CALLER_ID="+8610900000000", IVR_CAMPAIGNS_POLL_S="0.5",
            IVR_SERVER_SECRET_KEY=SERVER_KEY,  # one key, all workers
            IVR_RASA_AUTH_TOKEN=RASA_TOKEN)  # known here, to ask each Rasa directly
        self.workers[name] = server
        return server

    def sim(self, webhook: str, media: str | None = None) -> PhoneSimulator:
        return PhoneSimulator(SimOptions(
            base_url=self.workers[webhook].url, public_url=LB, auth_token=AUTH_TOKEN,
            api_token=API_TOKEN, media_url=self.workers[media].url if media else None))

    def kill(self, name: str) -> None:
        """The machine is gone: the worker and its Rasa children die at once."""
        proc = psutil.Process(self.workers[name].proc.pid)
        family = [proc, *proc.children(recursive=True)]
        for each in family:
            with_suppress(lambda p=each: p.send_signal(signal.SIGKILL))
        psutil.wait_procs(family, timeout=20)


def with_suppress(action: Callable[[], object]) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        action()


async def _until(check: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(1500)
async def test_two_workers_share_calls_queue_campaign_and_survive_a_death(
        tmp_path: Path, pg_server: LocalPostgres, redis_server: LocalRedis,
        browser: Launch) -> None:  # noqa: F811
    db_url = await asyncio.to_thread(pg_server.ensure_database, f"cl_{uuid.uuid4().hex[:8]}")
    answered: list[tuple[str, str]] = []  # (customer, worker host) of answered campaign calls
    cluster: Cluster

    async def answer(call: PlacedCall) -> None:
        cid = parse_qs(urlsplit(call.answer_url).query)["customer_id"][0]
        answered.append((cid, urlsplit(call.answer_url).netloc))
        script = load_script(FIXTURES / "outbound_callee_first" / "script.yaml")  # short
        base = f"http://{urlsplit(call.answer_url).netloc}"
        sim = OutboundPhone(SimOptions(base_url=base, public_url=LB, auth_token=AUTH_TOKEN,
                                       api_token=API_TOKEN))
        with contextlib.suppress(aiohttp.ClientError, RuntimeError, OSError):  # it died
            await sim.answer(call.answer_url, call.sid, script, to=call.to, from_=call.from_)

    carrier = FakeCarrier({phone(c): ["answer"] for c in CAMPAIGN}, answer,
                          auth_token=AUTH_TOKEN, default="no-answer", hangup_wait_s=30)
    await carrier.start()
    cluster = Cluster(tmp_path, db_url, redis_server.url(0), carrier)
    db = await asyncpg.connect(db_url)
    try:
        started = await asyncio.gather(asyncio.to_thread(cluster.start, "A"),
                                       asyncio.to_thread(cluster.start, "B"),
                                       return_exceptions=True)
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        a, b = cluster.workers["A"], cluster.workers["B"]
        await _setup_data(tmp_path, db_url, a.env)

        # 1) calls on both workers, and one whose media lands on the other worker (short
        # calls: the whole stack -- Vosk, Rasa, TTS -- in one turn)
        short = load_script(FIXTURES / "wrong_party" / "script.yaml")
        on_a, on_b, crossed = await asyncio.gather(
            cluster.sim("A").call(short), cluster.sim("B").call(short),
            cluster.sim("A", media="B").call(short))
        for result, worker in ((on_a, "A"), (on_b, "B"), (crossed, "B")):
            row = await db.fetchrow("SELECT worker, outcome FROM calls WHERE call_sid = $1",
                                    result.call_sid)
            assert row is not None and tuple(row) == (worker, "wrong_party"), (
                result.call_sid, row, a.log_tail(), b.log_tail())
        await _rasa_continues_on_the_other_instance(a, b)

        # 2) a caller escalated on B, accepted by an agent logged in to A's dashboard
        await _accept_on_a_caller_held_on_b(cluster, db, browser)

        # 3) a campaign dialled by both workers; 4) B dies mid-campaign and mid-call
        await _campaign_and_death_of_b(cluster, db, answered)
    finally:
        await db.close()
        for server in cluster.workers.values():
            server.stop()
        await carrier.close()


async def _setup_data(tmp: Path, db_url: str, env: dict[str, str]) -> None:
    def run() -> None:
        subprocess.run([str(IVR), "customers", "import", str(_customers(tmp)), "--db", db_url],
                       check=True, capture_output=True, env=env)
        subprocess.run([str(IVR), "agents", "add", "alice", "--display-name", "Alice",
                        "--languages", "zh,en", "--transfer-kind", "phone",
                        "--transfer-address", AGENT_PHONE, "--password-stdin", "--db", db_url],
                       input=PASSWORD.encode(), check=True, capture_output=True, env=env)

    await asyncio.to_thread(run)


async def _rasa_continues_on_the_other_instance(a: Server, b: Server) -> None:
    """Rasa A and Rasa B share the tracker store: B continues what A started (each reached
    as the IVR reaches it: its channel with the secret header, its API with the token)."""
    sender = f"cluster-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{a.rasa_url}{CHANNEL_PATH}", headers={TOKEN_HEADER: RASA_TOKEN},
                             json={"sender": sender, "message": "/call_start",
                                   "metadata": {}}) as resp:
            assert resp.status == 200, await resp.text()
        async with http.get(f"{b.rasa_url}/conversations/{sender}/tracker",
                            params={"token": RASA_TOKEN}) as resp:
            assert resp.status == 200, await resp.text()
            tracker = await resp.json()
    kinds = [e["event"] for e in tracker["events"]]
    assert "user" in kinds and "action" in kinds, tracker


async def _accept_on_a_caller_held_on_b(cluster: Cluster, db: asyncpg.Connection,
                                        launch: Launch) -> None:
    a = cluster.workers["A"]
    sid = new_sid("CA")
    cluster.carrier.add_call(sid)
    script = load_script(FIXTURES / "agent_request" / "script.yaml")
    async with launch() as page:
        await log_in_available(page, a.url, "alice", PASSWORD)
        call = asyncio.create_task(cluster.sim("B").call(script, call_sid=sid))
        row = page.locator("tr[id^='entry-']").first
        await row.wait_for(timeout=120_000)  # queued on B, pushed to A's dashboard live
        held = await db.fetchval("SELECT worker FROM agent_queue WHERE call_sid = $1", sid)
        assert held == "B"
        before = len(cluster.carrier.requests)
        await row.locator("button.accept").click()
        transfer = await _until(lambda: _transfer_request(cluster.carrier, sid, before), 30,
                                "the transfer request")
        assert f"<Number>{AGENT_PHONE}</Number>" in transfer.form["Twiml"]
        await page.wait_for_selector("#wrapup-form:not([hidden])")
        result = await asyncio.wait_for(call, 90)
    assert result.ended_by == "server"
    row_ = await db.fetchrow("SELECT worker, outcome, details FROM calls WHERE call_sid = $1",
                             sid)
    assert row_ is not None and row_["worker"] == "B" and row_["outcome"] == "escalated"
    assert '"queue_result": "transferred"' in row_["details"]
    kinds = [r[0] for r in await db.fetch("SELECT kind FROM events WHERE call_sid = $1", sid)]
    assert "transferred" in kinds  # recorded by B's session: the transfer ran on B


async def _transfer_request(carrier: FakeCarrier, sid: str, before: int) -> Any:
    return next((r for r in carrier.requests[before:]
                 if r.path.endswith(f"/Calls/{sid}.json")), None)


async def _campaign_and_death_of_b(cluster: Cluster, db: asyncpg.Connection,
                                   answered: list[tuple[str, str]]) -> None:
    a, b = cluster.workers["A"], cluster.workers["B"]
    b_host = urlsplit(b.env["IVR_CLUSTER_WORKER_URL"]).netloc
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    # a caller waits in the queue on B (no agent takes it)
    queued = asyncio.create_task(cluster.sim("B").call(_queued_then_hangup(600_000)))
    queued_sid = await _until(lambda: db.fetchval(
        "SELECT call_sid FROM agent_queue WHERE status = 'waiting' AND worker = 'B'"), 120,
        "a caller queued on B")
    async with aiohttp.ClientSession(base_url=a.url, headers=headers) as http:
        policy = {"windows": "00:00-24:00", "weekend_windows": "00:00-24:00",
                  "holiday_windows": "00:00-24:00", "max_attempts": 1,
                  "max_concurrent": 6, "calls_per_second": 0.5, "machine_detection": False}
        resp = await http.post("/api/campaigns", json={"id": "k", "name": "K",
                                                       "policy": policy})
        assert resp.status == 201, await resp.text()
        resp = await http.post("/api/campaigns/k/targets", json={"customer_ids": CAMPAIGN})
        assert (await resp.json())["added"] == len(CAMPAIGN)
        assert (await http.post("/api/campaigns/k/start")).status == 200
        # B holds a live campaign call (its media is on B) when it dies
        live_on_b = await _until(lambda: db.fetchval(
            "SELECT c.call_sid FROM calls c JOIN campaign_attempts t ON t.call_sid = c.call_sid"
            " WHERE c.worker = 'B' AND c.ended_at IS NULL AND t.state = 'in_progress'"), 180,
            "a campaign call live on B")
        leased_by_b = await db.fetchval(
            "SELECT COUNT(*) FROM campaign_targets WHERE lease_owner = 'B'")
        cluster.kill("B")
        killed_at = time.monotonic()

        # A takes over: B's live call fails, B's queued caller gets a callback
        lost = await _until(lambda: db.fetchrow(
            "SELECT outcome, error_code FROM calls WHERE call_sid = $1 AND ended_at IS NOT NULL",
            live_on_b), 60, "B's live call to be ended by A")
        assert tuple(lost) == ("failed", "worker_lost"), a.log_tail()
        callback = await _until(lambda: db.fetchval(
            "SELECT kind FROM followups WHERE call_sid = $1", queued_sid), 60,
            "a callback for B's queued caller")
        assert callback == "callback"
        assert time.monotonic() - killed_at < 30
        queued.cancel()

        # the campaign finishes on A; every customer dialled at most once
        async def done() -> bool:
            status = await (await http.get("/api/campaigns/k")).json()
            return bool(status["state"] == "done")

        await _until(done, 600, "the campaign to finish on A")
    dialled = Counter(r.form["To"] for r in cluster.carrier.requests
                      if r.path.endswith("/Calls.json"))
    assert dialled and max(dialled.values()) == 1, dialled
    attempts = await db.fetch("SELECT customer_id, worker, state FROM campaign_attempts"
                              " WHERE campaign_id = 'k'")
    per_customer = Counter(r["customer_id"] for r in attempts)
    assert max(per_customer.values()) == 1 and len(per_customer) == len(CAMPAIGN)
    assert {r["worker"] for r in attempts} == {"A", "B"}  # spread over both workers
    unknown = [r["worker"] for r in attempts if r["state"] == "unknown"]
    assert unknown and set(unknown) == {"B"}, attempts  # only what B held is unknown
    print(f"campaign: {Counter(r['worker'] for r in attempts)}; B held {leased_by_b} "
          f"lease(s) when killed; answered via B: {sum(h == b_host for _, h in answered)}")
    # A goes on taking calls
    after = await cluster.sim("A").call(load_script(FIXTURES / "wrong_party" / "script.yaml"))
    outcome = await db.fetchval("SELECT outcome FROM calls WHERE call_sid = $1",
                                after.call_sid)
    assert outcome == "wrong_party"
