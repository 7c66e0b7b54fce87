"""A 20-customer campaign end to end, in process: the real dialer and Twilio REST client,
the fake carrier (``FakeTwilioRest``) posting signed status callbacks to a small aiohttp app
that does what the IVR's status webhook will do (``CampaignService.on_call_status``), an
SMTP sink, and a scripted "conversation" per answered call written to the call store. Then
the report's numbers are checked, from the files on disk."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from ivr.campaigns import admin
from ivr.campaigns.mailer import SmtpMailer
from ivr.campaigns.model import AttemptState, CampaignState, TargetState
from ivr.campaigns.report import collect, write_report
from ivr.campaigns.service import CampaignService
from ivr.core.errors import SignatureError
from ivr.core.types import CallOutcome, Language
from ivr.customers.model import Channel, Customer, FollowUp, FollowUpKind
from ivr.store.records import CallRecord, Direction, Role, TurnRecord
from ivr.telephony.twilio import status as twilio_status
from ivr.telephony.twilio.control import TwilioControl
from ivr.telephony.twilio.rest import TwilioRestClient
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, TwilioSignatureValidator
from tests.campaigns.carrier import FakeCarrier, PlacedCall
from tests.campaigns.helpers import Harness, customer, fast_policy, harness
from tests.campaigns.smtp_sink import SmtpSink
from tests.telephony.fake_twilio_rest import DEFAULT_AUTH_TOKEN


@dataclass(frozen=True)
class Talk:
    outcome: CallOutcome
    rating: int | None = None
    topics: tuple[object, ...] = ()
    offer: str | None = None
    reward: bool = False
    escalation: str | None = None


def done(rating: int, offer: str, *topics: object) -> Talk:
    return Talk(CallOutcome.COMPLETED, rating, topics, offer, reward=True)


TALKS = {
    "c01": done(5, "accepted", "payment_failure"),
    "c02": done(4, "declined", "transaction_records", "account_security"),
    "c03": done(5, "accepted", "payment_failure"),
    "c04": done(3, "not_offered"),
    "c05": done(4, "accepted"),
    "c06": done(5, "accepted"),
    "c07": done(4, "declined"),
    "c08": done(5, "accepted"),
    "c09": Talk(CallOutcome.WRONG_PARTY),
    "c10": Talk(CallOutcome.WRONG_PARTY),
    "c11": done(4, "declined", {"topic": "info_change"}),
    "c12": done(4, "accepted"),
    "c17": Talk(CallOutcome.ESCALATED, escalation="agent_request"),
    "c18": Talk(CallOutcome.ESCALATED, escalation="agent_request"),
}
PLANS = {"c11": ["busy", "answer"], "c12": ["busy", "answer"],
         **{c: ["no-answer"] * 3 for c in ("c13", "c14", "c15")},
         "c16": ["machine"] * 3, "c20": ["failed"] * 3}
NEW_YORK = {"c05", "c06"}


def _customers() -> list[Customer]:
    out = []
    for i in range(1, 21):
        cid = f"c{i:02d}"
        kw: dict[str, object] = {}
        if cid in NEW_YORK:
            kw.update(timezone="America/New_York", language=Language.EN, title="Mr. Lee")
        if cid == "c15":
            kw.update(preferred_channel=Channel.EMAIL, email="c15@example.com")
        if cid == "c20":
            kw.update(preferred_channel=Channel.NONE)
        out.append(customer(cid, **kw))
    return out


class Network:
    """The answered calls' conversations, as the IVR would record them."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.answered: list[str] = []

    async def answer(self, call: PlacedCall) -> None:
        query = parse_qs(urlsplit(call.answer_url).query)
        cid = query["customer_id"][0]
        self.answered.append(cid)
        talk = TALKS[cid]
        details: dict[str, object] = {"faq_topics": list(talk.topics)}
        if talk.rating is not None:
            details["rating"] = talk.rating
        if talk.offer:
            details["offer"] = talk.offer
        if talk.reward:
            details["reward"] = {"kind": "points", "amount": 100}
        now = datetime.now(UTC)
        await self.h.calls.create_call(CallRecord(
            call_sid=call.sid, provider="twilio", direction=Direction.OUTBOUND, customer_id=cid,
            started_at=now, ended_at=now, outcome=talk.outcome, details=details,
            escalation_reason=talk.escalation))
        for n in range(2):
            await self.h.calls.add_turn(TurnRecord(call_sid=call.sid, role=Role.BOT,
                                                   text="您好", latency_ms=400.0 + 100 * n))
        if talk.escalation:
            await self.h.customers.add_followup(FollowUp(
                kind=FollowUpKind.CALLBACK, call_sid=call.sid, customer_id=cid,
                detail="agent callback", due_at=now + timedelta(hours=1), created_at=now))
        await self.h.service.on_call_finished(call.sid, talk.outcome.value)


@dataclass
class Webhooks:
    """The test's stand-in for the IVR's ``/twilio/status`` route (what the lead wires)."""

    url: str = ""
    service: CampaignService | None = None
    validator: TwilioSignatureValidator | None = None


def status_app(hooks: Webhooks) -> web.Application:
    async def status(request: web.Request) -> web.Response:
        assert hooks.service is not None and hooks.validator is not None
        form = {k: str(v) for k, v in (await request.post()).items()}
        try:
            hooks.validator.validate_webhook(request.raw_path, form,
                                             request.headers.get(SIGNATURE_HEADER))
        except SignatureError:
            raise web.HTTPForbidden() from None
        await hooks.service.on_call_status(form["CallSid"],
                                           twilio_status.progress(form.get("CallStatus", "")),
                                           twilio_status.answered_by(form.get("AnsweredBy")),
                                           request.query.get("attempt_id"))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/twilio/status", status)
    return app


@pytest.fixture
async def webhooks() -> AsyncIterator[Webhooks]:
    hooks = Webhooks()
    runner = web.AppRunner(status_app(hooks))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hooks.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield hooks
    await runner.cleanup()


async def run_until_done(h: Harness, carrier: FakeCarrier, rounds: int = 300) -> int:
    for n in range(rounds):
        await h.service.tick()
        await h.service.dialer.drain()
        await carrier.idle()
        campaign = await h.store.get_campaign("c1")
        assert campaign is not None
        if campaign.state is CampaignState.DONE:
            return n
        due = [t.next_at for t in await h.store.list_targets(
            "c1", (TargetState.QUEUED, TargetState.RETRYING)) if t.next_at]
        if due and min(due) > h.clock.now:
            h.clock.now = min(due)
    raise AssertionError("the campaign did not finish")


async def test_twenty_customer_campaign_and_its_report(tmp_path: Path,
                                                       webhooks: Webhooks) -> None:
    public_url = webhooks.url
    phones = {c.customer_id: c.phone for c in _customers()}
    async with (SmtpSink() as sink, aiohttp.ClientSession() as http):
        network: list[Network] = []

        async def answer(call: PlacedCall) -> None:
            await network[0].answer(call)

        carrier = FakeCarrier({phones[c]: steps for c, steps in PLANS.items()}, answer,
                              default="answer")
        await carrier.start()
        try:
            control = TwilioControl(TwilioRestClient(http, carrier.credentials(),
                                                     base_url=carrier.base_url), public_url)
            webhooks.validator = TwilioSignatureValidator(DEFAULT_AUTH_TOKEN, public_url)
            async with harness(tmp_path, control,
                               mailer=SmtpMailer("127.0.0.1", sink.port)) as h:
                webhooks.service = h.service
                network.append(Network(h))
                await h.customers.upsert_customers(_customers())
                await admin.create(h.ctx, "Pre-review callbacks", campaign_id="c1",
                                   policy=fast_policy(
                                       windows="12:00-13:30,18:30-21:00", max_concurrent=3,
                                       calls_per_second=2.0, max_attempts=3,
                                       retry_backoff_s=600.0).to_json())
                imported = await admin.import_targets(h.ctx, "c1", [*phones, "nobody"])
                assert (imported.added, imported.unknown) == (20, ("nobody",))
                await admin.add_dnc(h.ctx, "c1", ["c19"], "asked not to be called")
                await admin.start(h.ctx, "c1")
                await run_until_done(h, carrier)
                await _check(h, carrier, sink, network[0], tmp_path / "report")
        finally:
            await carrier.close()


async def _check(h: Harness, carrier: FakeCarrier, sink: SmtpSink, network: Network,
                 out: Path) -> None:
    assert carrier.errors == []
    assert all(p.status == 204 for p in carrier.posted)
    assert 1 < carrier.peak_live <= 3, "the concurrency limit holds"
    dials = [r for r in carrier.requests if r.path.endswith("/Calls.json")]
    assert len(dials) == 31
    assert all(r.form["AsyncAmd"] == "true" for r in dials)
    counts = admin.group_counts(await h.store.state_counts("c1"))
    assert {k: v for k, v in counts.items() if v} == {
        "completed": 14, "fallback": 4, "failed": 1, "skipped": 1, "total": 20}
    # SMS to the two no-answer customers and the voicemail one; e-mail to c15.
    assert len(carrier.messages) == 3
    assert {m.to for m in carrier.messages.values()} == {
        customer(c).phone for c in ("c13", "c14", "c16")}
    assert [m.recipients for m in sink.messages] == [["c15@example.com"]]
    # Voicemail: the IVR hung up on the machine each time.
    voicemail = [a for a in await h.store.list_attempts("c1")
                 if a.state is AttemptState.VOICEMAIL]
    assert len(voicemail) == 3 and all(a.voicemail_action == "hangup" for a in voicemail)
    # New York customers were called in their own lunch window (12:00-13:30 EDT).
    for attempt in await h.store.list_attempts("c1"):
        if attempt.customer_id in NEW_YORK:
            local = attempt.created_at.astimezone(ZoneInfo("America/New_York"))
            assert 12 <= local.hour < 14, local
    assert sorted(network.answered) == sorted(TALKS)

    data = await collect(h.ctx, "c1")
    metrics = write_report(data, out)
    expected = {
        "targets": 20, "dialled": 19, "attempts": 31, "reached": 14, "reach_rate": 0.7368,
        "completed": 10, "completion_rate": 0.7143, "rated": 10, "average_rating": 4.3,
        "escalated": 2, "escalation_rate": 0.1429, "voicemail": 3, "busy": 2, "no_answer": 9,
        "fallback_sms": 3, "fallback_email": 1, "followups_open": 2, "offers_made": 9,
        "offers_accepted": 6, "rewards_granted": 10,
    }
    assert metrics.summary() == expected
    assert dict(metrics.escalation_reasons) == {"agent_request": 2}
    assert dict(metrics.faq_topics) == {"payment_failure": 2, "transaction_records": 1,
                                        "account_security": 1, "info_change": 1}
    assert dict(metrics.outcomes) == {"completed": 10, "wrong_party": 2, "escalated": 2}
    assert len(metrics.latencies_ms) == 28
    for name in ("report.html", "funnel.png", "ratings.png", "escalations.png",
                 "faq_topics.png", "latency.png", "summary.csv", "targets.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        rows = {r["metric"]: r["value"] for r in csv.DictReader(fh)}
    assert rows["reach_rate"] == "0.7368" and rows["average_rating"] == "4.3"
    assert rows["escalation_reason:agent_request"] == "2"
    assert rows["offers_accepted"] == "6" and rows["rewards_granted"] == "10"
    assert rows["followups_open"] == "2"
    with (out / "targets.csv").open(encoding="utf-8") as fh:
        targets = {r["customer_id"]: r for r in csv.DictReader(fh)}
    assert targets["c19"]["reason"] == "do_not_call"
    assert targets["c11"]["attempts"] == "2" and targets["c11"]["rating"] == "4"
    assert "+86" not in (out / "targets.csv").read_text(encoding="utf-8")
    html_text = (out / "report.html").read_text(encoding="utf-8")
    assert "Pre-review callbacks" in html_text and 'src="latency.png"' in html_text
