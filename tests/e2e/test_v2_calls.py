"""The paths the shipped tiny models cannot hear, spoken through the real stack with the extended
test models (audio/models/tiny-*-v2, config/test-v2.toml): opt-out, a third party answering, a
language switch both ways and a named callback time, in both languages (audio/fixtures-v2).

One server of its own (its own Rasa and action server: the actions call back into the IVR that
runs the call), all calls at once; each path's store is checked, not only the outcome."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import vosk

from ivr.asr.model_files import unpack_packed_files
from ivr.campaigns.settings import CampaignsConfig
from ivr.campaigns.windows import windows_for
from ivr.customers.model import DEFAULT_TIMEZONE
from ivr.sim.dialogues import DialogueOutcome, load_all, run_dialogues, table
from ivr.sim.phone import SimOptions
from ivr.text.callback_slot import resolve
from ivr.text.callback_time import parse_callback_time
from ivr.text.normalize import normalize
from tests.e2e.conftest import API_HEADERS, API_TOKEN, AUTH_TOKEN, ROOT, Server, serving

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "audio" / "fixtures-v2"
MODELS = ROOT / "audio" / "models"
CONFIG = ROOT / "config" / "test-v2.toml"
SCRIPTS = load_all([FIXTURES])
IDS = [s.name for s in SCRIPTS]
LANGS = ["zh", "en"]
# What the v2 models add that these scripts say (the rest of their words are the v1 ones).
NEW_WORDS = {"zh": ("别再给我打电话了", "他不在", "说英文", "说中文", "明天", "上午", "十", "点"),
             "en": ("stop", "calling", "me", "he's", "home", "speak", "chinese", "tomorrow",
                    "morning")}


@pytest.fixture(scope="module")
def v2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = time.monotonic()
    with serving(tmp_path_factory.mktemp("ivr-e2e-v2"), IVR_CONFIG=str(CONFIG)) as srv:
        print(f"v2 server ready in {time.monotonic() - started:.1f} s")
        yield srv


@pytest.fixture(scope="module")
def outcomes(v2_server: Server) -> dict[str, DialogueOutcome]:
    options = SimOptions(base_url=v2_server.url, auth_token=AUTH_TOKEN, api_token=API_TOKEN)
    started = time.monotonic()
    done = asyncio.run(run_dialogues(SCRIPTS, options, concurrency=len(SCRIPTS)))
    print(table(done))
    print(f"{len(done)} v2 calls in {time.monotonic() - started:.1f} s")
    return {o.script.name.removeprefix("v2/"): o for o in done}


def _record(outcomes: dict[str, DialogueOutcome], name: str) -> dict[str, Any]:
    record = outcomes[name].result.record
    assert record is not None, f"{name}: no call record"
    return record


def _followups(server: Server, sid: str) -> list[dict[str, str]]:
    tasks: list[dict[str, str]] = requests.get(
        f"{server.url}/api/followups", params={"call_sid": sid}, headers=API_HEADERS,
        timeout=5).json()["followups"]
    return tasks


def _db(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{server.data / 'ivr.sqlite3'}?mode=ro", uri=True)


def test_every_v2_script_says_it_needs_the_v2_models() -> None:
    assert {s.models for s in SCRIPTS} == {"v2"}
    assert {f"v2/{lang}/{path}" for lang in LANGS for path in
            ("opt_out", "third_party", "callback_time", "language_switch")} == set(IDS)


@pytest.mark.parametrize("lang", LANGS)
def test_the_v2_models_know_the_words_the_scripts_say(lang: str) -> None:
    path = MODELS / f"tiny-{lang}-v2"
    unpack_packed_files(path)  # the repository keeps am/final.mdl gzip-compressed
    model = vosk.Model(str(path))
    missing = [w for w in NEW_WORDS[lang] if model.vosk_model_find_word(w) < 0]
    assert not missing, f"tiny-{lang}-v2 lacks {missing}"


@pytest.mark.timeout(900)  # the first one also pays for starting the server and all the calls
@pytest.mark.parametrize("name", IDS)
def test_v2_fixture_call(name: str, outcomes: dict[str, DialogueOutcome],
                         v2_server: Server) -> None:
    outcome = outcomes[name.removeprefix("v2/")]
    assert outcome.ok, f"{name}: {outcome.mismatches}\n{v2_server.log_tail(30)}"


@pytest.mark.parametrize("lang", LANGS)
def test_opt_out_in_the_call_is_recorded_and_honoured(
        lang: str, outcomes: dict[str, DialogueOutcome], v2_server: Server) -> None:
    """"别再给我打电话了" / "stop calling me" at the ID question: the customer is on the
    do-not-call list of every campaign, the withdrawal is recorded with time and call."""
    record = _record(outcomes, f"{lang}/opt_out")
    sid, customer = record["call_sid"], f"C-{lang}-dnc"
    assert record["outcome"] == "completed"
    withdrawn = record["details"]["consent_withdrawn"]
    assert withdrawn["call_sid"] == sid and withdrawn["at"]
    events = [e for e in record["events"] if e["kind"] == "consent_withdrawn"]
    assert len(events) == 1
    with _db(v2_server) as db:
        rows = db.execute("SELECT campaign_id, reason FROM campaign_dnc WHERE customer_id = ?",
                          (customer,)).fetchall()
    assert [r[0] for r in rows] == ["*"] and sid in rows[0][1]


@pytest.mark.parametrize("lang", LANGS)
def test_a_third_party_is_asked_when_and_told_nothing(
        lang: str, outcomes: dict[str, DialogueOutcome], v2_server: Server) -> None:
    """"他不在" / "he's not home": not the wrong party — asked when to call again, a callback
    follow-up and its one-customer campaign, outcome not_available."""
    record = _record(outcomes, f"{lang}/third_party")
    assert record["outcome"] == "not_available"
    said = next(t["text"] for t in record["turns"] if t["role"] == "caller")
    assert said in ({"他不在", "她不在"} if lang == "zh" else {"he's not home"})  # 他/她: one sound
    bot = [t["text"] for t in record["turns"] if t["role"] == "bot"]
    asked = "什么时候" if lang == "zh" else "when would be a good time"
    assert any(asked in text.lower() for text in bot), bot
    tasks = _followups(v2_server, str(record["call_sid"]))
    assert [t["kind"] for t in tasks] == ["callback"], tasks  # no phone_review: not wrong party
    campaign = requests.get(f"{v2_server.url}/api/campaigns/cb-{tasks[0]['id']}",
                            headers=API_HEADERS, timeout=5).json()
    assert campaign["state"] == "running" and campaign["counts"]["queued"] == 1


@pytest.mark.parametrize("lang", LANGS)
def test_the_named_callback_time_is_booked_inside_the_window(
        lang: str, outcomes: dict[str, DialogueOutcome], v2_server: Server) -> None:
    """"明天 上午 十 点" / "tomorrow morning": the follow-up and the campaign target are due
    when the words say (in the customer's zone), inside a calling window, from tomorrow on."""
    outcome = outcomes[f"{lang}/callback_time"]
    record = _record(outcomes, f"{lang}/callback_time")
    words = outcome.script.turns[-1].say or ""
    (task,) = [t for t in _followups(v2_server, str(record["call_sid"]))
               if t["kind"] == "callback"]
    due = datetime.fromisoformat(task["due_at"])
    tz = ZoneInfo(DEFAULT_TIMEZONE)
    policy = CampaignsConfig().default_policy()
    booked_at = datetime.fromisoformat(task["created_at"])
    expected = resolve(parse_callback_time(normalize(words)), booked_at, DEFAULT_TIMEZONE,
                       lambda day: windows_for(policy, day))
    assert due == expected.due_at, (words, task)
    local = due.astimezone(tz)
    assert local.date() >= (booked_at.astimezone(tz) + timedelta(days=1)).date()
    minute = local.hour * 60 + local.minute
    assert any(lo <= minute < hi for lo, hi in windows_for(policy, local.date())), local
    if expected.as_asked:  # the window allowed the time asked for
        assert (local.hour, local.minute) == (10, 0) if lang == "zh" else local.hour < 12
    with _db(v2_server) as db:
        (next_at, state), = db.execute(
            "SELECT next_at, state FROM campaign_targets WHERE campaign_id = ?",
            (f"cb-{task['id']}",)).fetchall()
    assert datetime.fromisoformat(next_at) == due and state == "queued"


@pytest.mark.parametrize("lang", LANGS)
def test_the_call_goes_on_in_the_language_asked_for(
        lang: str, outcomes: dict[str, DialogueOutcome]) -> None:
    """"说英文" / "speak chinese" at the identity question: every later prompt in the other
    language, the customer addressed in it (Mr. Zhang / Smith先生), the call recorded in it."""
    record = _record(outcomes, f"{lang}/language_switch")
    other = "en" if lang == "zh" else "zh"
    assert record["language"] == other
    events = [e for e in record["events"] if e["kind"] == "language_switch"]
    assert len(events) == 1
    turns = record["turns"]
    first_answer = next(i for i, t in enumerate(turns) if t["role"] == "caller")
    later = [t["text"] for t in turns[first_answer + 1:] if t["role"] == "bot"]
    assert len(later) >= 5

    def han(text: str) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in text)

    assert all(han(t) == (other == "zh") for t in later), later
