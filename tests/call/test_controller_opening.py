"""The opening and the recording notice spoken the moment the call is answered, while the
dialogue prepares its first turn; the dialogue's identical opening is then not said twice, and
nothing the caller does cuts the notice (it comes before any answer is recorded)."""

from __future__ import annotations

from ivr.call import commands as c
from ivr.call.model import ListenMode
from ivr.call.policy import CallPolicy
from ivr.call.prompts import SystemPrompt
from ivr.core.types import Expectation, Language
from ivr.dialogue.turns import BotTurn, Utterance
from ivr.store.records import Counter, Role, TurnSource
from tests.call.timeline import PROMPTS, World

OPENING = PROMPTS.text(SystemPrompt.OPENING, Language.ZH)
NOTICE = PROMPTS.text(SystemPrompt.RECORDING_NOTICE, Language.ZH)
QUESTION = "请问是张先生吗?"


def first_turn(_message: str) -> BotTurn:
    return BotTurn((Utterance(OPENING), Utterance(NOTICE, uninterruptible=True),
                    Utterance(QUESTION)), Expectation.YES_NO)


def test_opening_plays_before_the_dialogue_answers_and_is_not_repeated() -> None:
    world = World(first_turn, policy=CallPolicy(early_opening=True), dialogue_s=2.0)
    world.run(until=3.0)
    speaks = world.of(c.Speak)
    assert [[u.text for u in s.utterances] for s in speaks] == [[OPENING, NOTICE], [QUESTION]]
    assert speaks[0].source is TurnSource.SYSTEM and not speaks[0].interruptible
    assert speaks[1].interruptible  # the question itself may be interrupted
    # its audio started (and was recorded) long before the dialogue's 2 s answer
    kinds = [type(cmd).__name__ if not isinstance(cmd, c.RecordEvent) else cmd.kind
             for cmd in world.log]
    assert kinds.index("RecordTurn") < kinds.index("bot_reply")
    bot = [(t.text, t.source) for t in world.of(c.RecordTurn) if t.role is Role.BOT]
    assert bot[0] == (f"{OPENING} {NOTICE}", TurnSource.SYSTEM)
    world.run(until=40.0)
    bot = [t.text for t in world.of(c.RecordTurn) if t.role is Role.BOT]
    assert bot[1] == QUESTION and OPENING not in bot[1:]


def test_a_different_first_turn_is_spoken_whole() -> None:
    other = BotTurn((Utterance("非常抱歉,系统繁忙。"),), Expectation.YES_NO)
    world = World(lambda _m: other, policy=CallPolicy(early_opening=True))
    world.run(until=40.0)
    texts = [[u.text for u in s.utterances] for s in world.of(c.Speak)]
    assert texts[:2] == [[OPENING, NOTICE], ["非常抱歉,系统繁忙。"]]


def test_outbound_opens_after_the_callee_spoke() -> None:
    world = World(first_turn, policy=CallPolicy(early_opening=True), outbound=True)
    world.say(0.3, "喂", duration=0.4)
    world.run(until=1.0)
    assert world.of(c.Speak) == []
    world.run(until=2.0)
    assert [u.text for u in world.of(c.Speak)[0].utterances] == [OPENING, NOTICE]


def _early_end(world: World) -> float:
    seq = world.of(c.Speak)[0].seq
    return next(end for s, _, end, cut in world.spoken if s == seq and not cut)


def test_speech_during_the_notice_does_not_cut_it_even_once_the_question_is_queued() -> None:
    """The dialogue answers at 0.08 s, long before the opening ends: the interruptible question
    waits behind it, and a caller talking over the notice neither cuts it nor answers."""
    replies = iter([first_turn("")])
    world = World(lambda _m: next(replies), policy=CallPolicy(early_opening=True))
    world.say(10.0, "是 的 是 的", duration=3.0)  # the notice plays from ~8 s to ~16 s
    world.run(until=40.0)
    assert world.counted(Counter.BARGE_INS) == 0 and world.of(c.StopAudio) == []
    assert _early_end(world) > 16.0
    assert any(isinstance(cmd, c.Listen) and cmd.mode is ListenMode.BARGE for cmd in world.log)
    assert world.heard == []  # talked over the notice: not taken as the answer


def test_a_key_during_the_notice_does_not_cut_it_and_answers_after_the_question() -> None:
    replies = iter([first_turn(""), BotTurn((Utterance("好的。"),), Expectation.YES_NO)])
    world = World(lambda _m: next(replies), policy=CallPolicy(early_opening=True))
    world.press(12.0, "1")
    world.run(until=40.0)
    assert world.counted(Counter.BARGE_INS) == 0 and world.of(c.StopAudio) == []
    assert world.heard == ["[1]"]
    question_end = world.bot_done_at(2)
    sent = world.sent_at[world.sent.index("/affirm")] if "/affirm" in world.sent else None
    assert sent is not None and sent >= question_end


def test_once_the_notice_has_played_the_question_can_be_interrupted() -> None:
    replies = iter([first_turn(""), BotTurn((Utterance("好的。"),), Expectation.YES_NO)])
    world = World(lambda _m: next(replies), policy=CallPolicy(early_opening=True))
    world.run(until=0.5)
    world.say(_planned_early_end(world) + 0.5, "是", duration=0.8)
    world.run(until=40.0)
    assert world.counted(Counter.BARGE_INS) == 1


def _planned_early_end(world: World) -> float:
    early = world.of(c.Speak)[0]
    return world.tts_s + sum(8.0 for _ in early.utterances)  # the timeline's uninterruptible pace
