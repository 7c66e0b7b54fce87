"""Every recorded-audio fixture's caller timeline (audio/fixtures/*/*/script.yaml), replayed
against the pure controller: the caller acts as the phone simulator does (after the bot has
finished and been quiet, or ``barge_in_ms`` into a prompt; keys 150 ms apart; outbound callees
speak first), a scripted dialogue asks one question per answer the fixture expects and ends the
call as the fixture expects. What the controller decides — what it heard and sent, barge-ins,
no-input, no-match, the outcome — must match the fixture's ``expect`` block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.call.answers import spoken_digits
from ivr.call.commands import UpdateCall
from ivr.core.types import CallOutcome, Expectation, Language
from ivr.dialogue.turns import BotTurn
from ivr.store.records import Counter
from tests.call.timeline import World, ask, handoff, hangup

FIXTURES = Path(__file__).resolve().parents[2] / "audio" / "fixtures"
SCRIPTS = sorted(FIXTURES.glob("*/*/script.yaml"))
NOTICE = "您的个人信息会受到严格保护,仅用于本次服务。"


def _expectation(heard: str) -> Expectation:
    if heard.startswith("["):
        keys = heard.strip("[]")
        if len(keys) >= 2:
            return Expectation.DIGITS
        return Expectation.RATING if keys in "345" else Expectation.YES_NO
    digits = spoken_digits(heard)
    if digits is not None and len(digits) == 4:
        return Expectation.DIGITS
    return Expectation.YES_NO


class ScriptedDialogue:
    """One question per expected answer (its expectation read from that answer), a rephrase
    with a no-match event for an answer the fixture heard as ``*``, then the expected end."""

    def __init__(self, expect: dict[str, Any]) -> None:
        self.heard: list[str] = list(expect.get("heard", []))
        self.expect = expect
        self.asked = 0
        self.noticed = False

    def question(self) -> BotTurn:
        expect = _expectation(self.heard[self.asked]) if self.asked < len(self.heard) \
            else Expectation.YES_NO
        if self.asked == 1 and self.heard[0] in ("是", "yes", "[1]"):
            expect = Expectation.DIGITS  # confirmed identity: the ID question follows
        notice = None
        if expect is Expectation.DIGITS and not self.noticed:
            notice, self.noticed = NOTICE, True
        return ask(f"问题{self.asked}:请您回答。", expect, notice=notice)

    def __call__(self, message: str) -> BotTurn:
        if message != "/call_start":
            answered = self.heard[self.asked]
            self.asked += 1
            if answered == "*":
                turn = self.question()
                return BotTurn(turn.utterances, turn.expect, events=({"no_match": True},))
        if self.asked < len(self.heard):
            return self.question()
        outcome = CallOutcome(self.expect["outcome"])
        if outcome is CallOutcome.ESCALATED:
            return handoff("正在为您转接人工客服。", self.expect["escalation_reason"])
        if outcome is CallOutcome.ABANDONED:  # no-input fixtures never get here
            return ask("您还在吗?")
        return hangup("感谢您的接听,再见。", outcome)


@pytest.mark.parametrize("path", SCRIPTS, ids=[f"{p.parent.parent.name}/{p.parent.name}"
                                               for p in SCRIPTS])
def test_fixture_timeline(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    expect = raw["expect"]
    dialogue = ScriptedDialogue(expect)
    world = World(dialogue, outbound=raw.get("direction") == "outbound",
                  lang=Language(raw["lang"]))
    world.script(raw["turns"])
    world.at(0, lambda: None)
    world.run()
    for h in world.handoffs:  # the agent queue answers "escalated" a second later
        assert h.reason == expect["escalation_reason"]
    assert world.outcome is CallOutcome(expect["outcome"]), world.ended
    heard = world.heard
    assert len(heard) == len(expect["heard"]), heard
    for got, want in zip(heard, expect["heard"], strict=True):
        assert want == "*" or got == want
    for counter in (Counter.BARGE_INS, Counter.NO_INPUT, Counter.NO_MATCH):
        if counter.value in expect:
            assert world.counted(counter) == expect[counter.value], counter
    if "escalation_reason" in expect:
        updates = [u.fields for u in world.of(UpdateCall) if "escalation_reason" in u.fields]
        assert updates and updates[-1]["escalation_reason"] == expect["escalation_reason"]
    assert len(world.ended) <= 1


def test_every_fixture_is_replayed() -> None:
    assert len(SCRIPTS) >= 40
    assert {p.parent.parent.name for p in SCRIPTS} == {"zh", "en"}

