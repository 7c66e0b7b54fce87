"""The recorded-audio fixtures under audio/fixtures, called through the real stack (up to 24
calls at once) and checked against the script's ``expect`` block by ``ivr.sim.dialogues``.

Every dialogue branch runs in both languages. Call mechanics that do not depend on the language
— barge-in, the uninterruptible notice, keypad-only answers, no input — are proven for every
fixture timeline by the controller tests (tests/call/test_controller_*.py) and run here once,
in Mandarin. Pacing (late frames) is measured by ``ivr bench``, not asserted here."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import requests

from ivr.campaigns.offers import MAIL_SUBJECT, OFFER_TEXT
from ivr.core.pii import mask_text
from ivr.core.types import Language
from ivr.sim.dialogues import DialogueOutcome, load_all, run_dialogues, table
from ivr.sim.phone import SimOptions
from tests.e2e.conftest import API_HEADERS, API_TOKEN, AUTH_TOKEN, ROOT, Server
from tests.e2e.mail_thread import MailSinkThread

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "audio" / "fixtures"
ONCE = {"en/barge_in_faq", "en/privacy_notice_not_cut", "en/keypad_only", "en/no_input"}
SCRIPTS = [s for s in load_all([FIXTURES]) if s.name not in ONCE]
IDS = [s.name for s in SCRIPTS]


@pytest.fixture(scope="module")
def outcomes(server: Server) -> dict[str, DialogueOutcome]:
    options = SimOptions(base_url=server.url, auth_token=AUTH_TOKEN, api_token=API_TOKEN)
    done = asyncio.run(run_dialogues(SCRIPTS, options, concurrency=24))
    print(table(done))
    return {o.script.name: o for o in done}


def test_there_are_fixtures_in_both_languages() -> None:
    langs = {Path(i).parts[0] for i in IDS}
    assert {"zh", "en"} <= langs
    assert len(IDS) >= 10


@pytest.mark.timeout(1800)  # the first one also pays for starting the stack and all the calls
@pytest.mark.parametrize("name", IDS)
def test_fixture_call(name: str, outcomes: dict[str, DialogueOutcome], server: Server) -> None:
    outcome = outcomes[name]
    assert outcome.ok, f"{name}: {outcome.mismatches}\n{server.log_tail(30)}"
    result = outcome.result
    record = result.record
    assert record is not None
    assert all(t["text"] for t in record["turns"] if t["role"] == "bot")
    if outcome.script.expect.get("barge_ins"):
        assert result.clears >= 1, "the server sent clear to stop its prompt"
    assert record["from_masked"] != "+8613812345678", "caller number is masked"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_callback_asked_for_in_a_call_is_a_scheduled_call(
        lang: str, outcomes: dict[str, DialogueOutcome], server: Server) -> None:
    """"晚点再打" / "later" (fixtures */reschedule): a callback follow-up inside the calling
    windows and a running one-customer campaign whose target is due at that time."""
    record = outcomes[f"{lang}/reschedule"].result.record
    assert record is not None
    sid = record["call_sid"]
    tasks = requests.get(f"{server.url}/api/followups", params={"call_sid": sid},
                         headers=API_HEADERS, timeout=5).json()["followups"]
    callback = next(t for t in tasks if t["kind"] == "callback")
    campaign = requests.get(f"{server.url}/api/campaigns/cb-{callback['id']}",
                            headers=API_HEADERS, timeout=5).json()
    assert campaign["state"] == "running" and campaign["counts"]["queued"] == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_accepted_offer_is_sent_and_recorded(
        lang: str, outcomes: dict[str, DialogueOutcome], server: Server,
        mail_sink: MailSinkThread) -> None:
    """"可以" / "sure" to the offer (fixtures */offer_accepted, a customer who prefers e-mail):
    the details arrive by mail (the session's SMTP sink), the call records the message and an
    `offer_sent` event, and no "sending failed" follow-up is left for a human."""
    record = outcomes[f"{lang}/offer_accepted"].result.record
    assert record is not None and record["details"]["offer"] == "accepted"
    message = record["details"]["offer_message"]
    assert message["channel"] == "email" and message["ref"], message
    sent = [e for e in record["events"] if e["kind"] == "offer_sent"]
    assert [e["code"] for e in sent] == ["email"]
    (mail,) = mail_sink.received(f"c-{lang}-offer@example.com")
    body = mail.message()
    # the record keeps the Message-ID as every stored text: long digit runs masked
    assert message["ref"] == mask_text(body["Message-ID"])
    assert body["Subject"] == MAIL_SUBJECT[Language(lang)]
    assert OFFER_TEXT[Language(lang)] in body.get_content()
    tasks = requests.get(f"{server.url}/api/followups", params={"call_sid": record["call_sid"]},
                         headers=API_HEADERS, timeout=5).json()["followups"]
    assert not [t for t in tasks if "offer" in t["detail"]], tasks
