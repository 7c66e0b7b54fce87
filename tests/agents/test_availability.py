"""Queue honesty: outside agent hours or with nobody of the caller's language logged in, the
escalated caller is told at once (no_agent) and the dialogue asks when to call back; nothing
is queued."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ivr.agents.accounts import AgentDirectory
from ivr.agents.availability import (
    NOBODY,
    OUTSIDE_HOURS,
    AgentHours,
    Availability,
    parse_hours,
)
from ivr.agents.handoff import AGENT_UNAVAILABLE, QueueHandoff
from ivr.agents.queue import AgentQueue
from ivr.call.prompts import SystemPrompt, load_prompts
from ivr.core.errors import ConfigError
from ivr.core.types import Language, Priority
from ivr.dialogue.turns import Handoff
from ivr.store.agents import SqliteAgentStore
from ivr.store.records import CallRecord
from ivr.store.sqlite import SqliteCallStore
from tests.agents.support import PASSWORD, target

# Monday 2024-06-10 20:00 in Shanghai
MONDAY_8PM_SH = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("windows", "days", "now", "open_"), [
    ("", "mon", MONDAY_8PM_SH, True),  # no hours: any time
    ("09:00-21:00", "mon,tue,wed,thu,fri", MONDAY_8PM_SH, True),
    ("09:00-18:00", "mon,tue,wed,thu,fri", MONDAY_8PM_SH, False),
    ("09:00-21:00", "tue,wed", MONDAY_8PM_SH, False),
    ("09:00-21:00", "mon", datetime(2024, 6, 10, 13, 0, tzinfo=UTC), False),  # 21:00 local
])
def test_agent_hours(windows: str, days: str, now: datetime, open_: bool) -> None:
    assert parse_hours(windows, days, "Asia/Shanghai").open_at(now) is open_


def test_agent_hours_in_another_zone() -> None:
    hours = parse_hours("09:00-17:00", "mon", "Europe/London")
    assert hours.open_at(datetime(2024, 6, 10, 12, 0, tzinfo=UTC))  # 13:00 London
    assert not hours.open_at(datetime(2024, 6, 10, 16, 30, tzinfo=UTC))  # 17:30 London


@pytest.mark.parametrize(("windows", "days", "zone"), [
    ("9-", "mon", "Asia/Shanghai"), ("09:00-18:00", "someday", "Asia/Shanghai"),
    ("09:00-18:00", "mon", "Mars/Base"),
])
def test_bad_agent_hours_are_config_errors(windows: str, days: str, zone: str) -> None:
    with pytest.raises(ConfigError):
        parse_hours(windows, days, zone)


async def test_refusal_reasons(directory: AgentDirectory) -> None:
    always = Availability(directory.list, AgentHours(), clock=lambda: MONDAY_8PM_SH)
    assert await always.refusal(Language.ZH) == NOBODY
    agent = await directory.add("li", PASSWORD, display_name="Li", languages=("zh",),
                                target=target())
    assert await always.refusal(Language.ZH) == NOBODY  # away is not there
    await directory.set_presence(agent.id, "busy")
    assert await always.refusal(Language.ZH) is None  # busy: queue, they will be free
    assert await always.refusal(Language.EN) == NOBODY  # nobody who speaks English
    closed = Availability(directory.list, parse_hours("09:00-18:00", "mon", "Asia/Shanghai"),
                          clock=lambda: MONDAY_8PM_SH)
    assert await closed.refusal(Language.ZH) == OUTSIDE_HOURS


@dataclass
class _Info:
    call_sid: str = "CA-no-agent"
    customer_id: str | None = "C1"


@dataclass
class FakeSession:
    """What QueueHandoff uses of a held call (ivr.call.handle.DriverHandle)."""

    info: _Info = field(default_factory=_Info)
    lang: Language = Language.ZH
    log: list[tuple[str, Any]] = field(default_factory=list)
    shutting_down: bool = False

    async def record(self, **details: Any) -> None:
        self.log.append(("record", details))

    async def event(self, kind: str, code: str, detail: dict[str, Any]) -> None:
        self.log.append(("event", (kind, code, detail)))

    async def say(self, text: str, *, wait: bool = True) -> None:
        self.log.append(("say", text))

    async def back_to_dialogue(self, message: str) -> None:
        self.log.append(("dialogue", message))

    def hold(self) -> None:
        raise AssertionError("a caller with no agent is never put on hold")


async def test_no_agent_is_told_at_once_and_nothing_is_queued(
        agent_store: SqliteAgentStore, directory: AgentDirectory) -> None:
    prompts = load_prompts()
    handoff = QueueHandoff(
        AgentQueue(agent_store), None, None, None, prompts,  # type: ignore[arg-type]
        b"", max_wait_s=180.0, transfer_timeout_s=5.0,
        availability=Availability(directory.list, AgentHours(), clock=lambda: MONDAY_8PM_SH))
    session = FakeSession()
    await handoff.handoff(session, Handoff("complaint", Priority.NORMAL))  # type: ignore[arg-type]
    assert session.log == [
        ("record", {"queue_result": "no_agent", "queue_wait_s": 0.0}),
        ("event", ("no_agent", NOBODY, {"reason": "complaint"})),
        ("say", prompts.text(SystemPrompt.NO_AGENT, Language.ZH)),
        ("dialogue", AGENT_UNAVAILABLE),
    ]
    assert await agent_store.waiting() == []


async def test_the_context_card_shows_identity_corrections_topics_and_rating(
        agent_store: SqliteAgentStore, tmp_path: Path) -> None:
    async with await SqliteCallStore.open(tmp_path / "calls.db") as calls:
        await calls.create_call(CallRecord(call_sid="CA-card", details={
            "identity_verified": True, "confirmed_fields": ["name", "card"],
            "corrections": ["phone", "city"], "faq_topics": ["payment_failure"], "rating": 2}))
        handoff = QueueHandoff(AgentQueue(agent_store), None, calls, None, load_prompts(), b"",
                               max_wait_s=180.0, transfer_timeout_s=5.0)
        session = FakeSession(info=_Info("CA-card", None))
        card = await handoff._context(session,  # type: ignore[arg-type]
                                      Handoff("low_rating", Priority.HIGH))
    assert card["identity_verified"] is True
    assert card["corrections"] == ["phone", "city"]
    assert card["faq_topics"] == ["payment_failure"] and card["rating"] == 2
    assert (card["reason"], card["priority"]) == ("low_rating", "high")
