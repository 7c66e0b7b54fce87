"""The opening spoken the moment the call is answered, while the dialogue prepares its first
turn; the dialogue's identical opening is then not said twice."""

from __future__ import annotations

from ivr.call import commands as c
from ivr.call.policy import CallPolicy
from ivr.call.prompts import SystemPrompt
from ivr.core.types import Expectation, Language
from ivr.dialogue.turns import BotTurn, Utterance
from ivr.store.records import Role, TurnSource
from tests.call.timeline import PROMPTS, World

OPENING = PROMPTS.text(SystemPrompt.OPENING, Language.ZH)
QUESTION = "请问是张先生吗?"


def first_turn(_message: str) -> BotTurn:
    return BotTurn((Utterance(OPENING), Utterance(QUESTION)), Expectation.YES_NO)


def test_opening_plays_before_the_dialogue_answers_and_is_not_repeated() -> None:
    world = World(first_turn, policy=CallPolicy(early_opening=True), dialogue_s=2.0)
    world.run(until=3.0)
    speaks = world.of(c.Speak)
    assert [s.utterances[0].text for s in speaks] == [OPENING, QUESTION]
    assert speaks[0].source is TurnSource.SYSTEM and not speaks[0].interruptible
    # its audio started (and was recorded) long before the dialogue's 2 s answer
    kinds = [type(cmd).__name__ if not isinstance(cmd, c.RecordEvent) else cmd.kind
             for cmd in world.log]
    assert kinds.index("RecordTurn") < kinds.index("bot_reply")
    bot = [(t.text, t.source) for t in world.of(c.RecordTurn) if t.role is Role.BOT]
    assert bot[0] == (OPENING, TurnSource.SYSTEM)
    assert all(text != OPENING for text, source in bot[1:])


def test_a_different_first_turn_is_spoken_whole() -> None:
    other = BotTurn((Utterance("非常抱歉,系统繁忙。"),), Expectation.YES_NO)
    world = World(lambda _m: other, policy=CallPolicy(early_opening=True))
    world.run(until=40.0)
    texts = [s.utterances[0].text for s in world.of(c.Speak)]
    assert texts[:2] == [OPENING, "非常抱歉,系统繁忙。"]


def test_outbound_opens_after_the_callee_spoke() -> None:
    world = World(first_turn, policy=CallPolicy(early_opening=True), outbound=True)
    world.say(0.3, "喂", duration=0.4)
    world.run(until=1.0)
    assert world.of(c.Speak) == []
    world.run(until=2.0)
    assert world.of(c.Speak)[0].utterances[0].text == OPENING
