"""The call hub with the real SQLite store: admission (readiness, capacity, customer and
language), the one-time binding of a media stream to its call, provider status reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ivr.call.admission import Admitter
from ivr.call.hub import TOKEN_PARAM, CallHub
from ivr.core.types import CallOutcome, Language
from ivr.metrics import Metrics
from ivr.store.sqlite import SqliteCallStore
from ivr.telephony.provider import (
    AnsweredBy,
    CallDirection,
    CallIdentity,
    CallProgress,
    CallStatusUpdate,
    MediaStart,
)

SID = "CA" + "7" * 32


class Ready:
    def __init__(self, ready: bool = True) -> None:
        self.value = ready

    def ready(self) -> tuple[bool, str]:
        return self.value, "" if self.value else "rasa"


class Customers:
    async def customer_id_for_phone(self, phone: str) -> str | None:
        return "C-en" if phone == "+14155550101" else None

    async def profile(self, customer_id: str) -> dict[str, Any] | None:
        return {"language": "en", "name": "Alex", "title": "Mr. Smith"}


@dataclass
class Channel:
    params: dict[str, str]
    closed: bool = False
    provider: str = "test"

    async def start(self) -> MediaStart:
        return MediaStart(SID, params=self.params)

    async def close(self) -> None:
        self.closed = True


@dataclass
class Campaigns:
    statuses: list[tuple[str, CallProgress | None, AnsweredBy | None, str | None]] = field(
        default_factory=list)

    async def on_call_status(self, call_id: str, progress: CallProgress | None,
                             answered_by: AnsweredBy | None, attempt_id: str | None) -> None:
        self.statuses.append((call_id, progress, answered_by, attempt_id))

    async def on_call_finished(self, call_id: str, outcome: str) -> None:
        return None


class NoDrivers:
    def __call__(self, *args: object, **kw: object) -> Any:
        raise AssertionError("no call may start here")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCallStore]:
    async with await SqliteCallStore.open(tmp_path / "hub.sqlite3") as s:
        yield s


def hub(store: SqliteCallStore, ready: bool = True, max_calls: int = 5) -> CallHub:
    admitter = Admitter(store, Ready(ready), Customers(), Language.ZH, max_calls,
                        "https://ivr.example.com")
    return CallHub(admitter, store, Metrics(), NoDrivers(), Campaigns())  # type: ignore[arg-type]


async def test_a_known_caller_is_admitted_in_their_language(store: SqliteCallStore) -> None:
    h = hub(store)
    admission = await h.call_arrived(CallIdentity("test", SID, CallDirection.INBOUND,
                                                  "+14155550101", "+8610000000"))
    assert admission.accepted and admission.language == "en"
    assert admission.stream_params["lang"] == "en" and admission.stream_params[TOKEN_PARAM]
    record = await store.get_call(SID)
    assert record is not None and record.customer_id == "C-en"
    assert record.from_masked != "+14155550101" and record.provider == "test"


@pytest.mark.parametrize(("ready", "max_calls", "reason"), [(False, 5, "rasa"),
                                                            (True, 0, "capacity")])
async def test_refused_calls_hear_the_apology_and_are_recorded(
        store: SqliteCallStore, ready: bool, max_calls: int, reason: str) -> None:
    h = hub(store, ready, max_calls)
    admission = await h.call_arrived(CallIdentity("test", SID, params={"lang": "en"}))
    assert not admission.accepted and admission.refusal_reason == reason
    assert admission.refusal_audio_url == "https://ivr.example.com/prompts/unavailable-en.wav"
    record = await store.get_call(SID)
    assert record is not None and record.outcome is CallOutcome.FAILED
    assert record.error_code == f"refused:{reason}"


async def test_a_stream_must_carry_its_calls_one_time_token(store: SqliteCallStore) -> None:
    h = hub(store)
    stranger = Channel({})
    await h.media_connected(stranger)  # type: ignore[arg-type]
    assert stranger.closed, "no admission for this call"
    admission = await h.call_arrived(CallIdentity("test", SID))
    forged = Channel({TOKEN_PARAM: "guess"})
    await h.media_connected(forged)  # type: ignore[arg-type]
    assert forged.closed
    assert h._bind(MediaStart(SID, params=dict(admission.stream_params))) is not None
    assert h._bind(MediaStart(SID, params=dict(admission.stream_params))) is None, "one time"


async def test_status_reports_are_recorded_and_passed_to_campaigns(
        store: SqliteCallStore) -> None:
    h = hub(store)
    await h.call_status("test", CallStatusUpdate(SID, CallProgress.RINGING, "ringing",
                                                 attempt_id="AT1"))
    await h.call_status("test", CallStatusUpdate(SID, CallProgress.BUSY, "busy",
                                                 attempt_id="AT1"))
    record = await store.get_call(SID)
    assert record is not None and record.outcome is CallOutcome.NO_ANSWER and record.ended_at
    events = await store.get_events(SID)
    assert [e.code for e in events] == ["ringing", "busy"]
    campaigns = h.campaigns
    assert isinstance(campaigns, Campaigns)
    assert [s[1] for s in campaigns.statuses] == [CallProgress.RINGING, CallProgress.BUSY]
