"""End of answer per question type, on a scripted timeline: digits across pauses (spoken and
keyed), keypad * for X and 0 alone for an agent, closed answers ending as soon as they are
complete, long open answers allowing long pauses, and what the dialogue receives."""

from __future__ import annotations

import json

from ivr.call import commands as c
from ivr.call.controller import START_MESSAGE
from ivr.call.policy import AnswerKind, AnswerTiming, CallPolicy
from ivr.core.types import Expectation
from ivr.dialogue.keypad import AGENT, REPEAT
from ivr.dialogue.turns import BotTurn
from ivr.store.records import TurnSource
from tests.call.timeline import World, ask, hangup

ID_Q = ask("请说身份证后四位。", Expectation.DIGITS)


def id_world(**kw: object) -> World:
    replies = iter([ID_Q, hangup("好的,再见。")])
    return World(lambda _m: next(replies), **kw)  # type: ignore[arg-type]


def greeting_done(world: World) -> float:
    """The ID question here is the first turn: 0.03 s of TTS + its text."""
    return 0.08 + 0.03 + len(ID_Q.text) * world.seconds_per_char


def verified(world: World) -> list[str]:
    return [cmd.digits for cmd in world.of(c.VerifyIdentity)]


def test_spoken_digits_with_a_pause_between_them_are_one_answer() -> None:
    world = id_world()
    t = greeting_done(world) + 0.5
    world.say(t, "一 二", duration=0.8)
    world.say(t + 0.8 + 1.2, "三 四", duration=0.8)  # 1.2 s pause: longer than any end silence
    world.run()
    assert verified(world) == ["1234"]
    assert world.heard == ["[****]"]  # the ID answer is never stored
    assert world.sent[1] == '/id_result{"result":"verified","attempts_left":2}'


def test_digits_end_at_the_inter_digit_timeout_when_fewer_than_four() -> None:
    world = id_world(policy=CallPolicy(inter_digit_s=2.0))
    t = greeting_done(world) + 0.5
    world.say(t, "一 二", duration=0.8)
    world.run()
    assert verified(world) == ["12"]
    checked = [cmd for cmd in world.log if isinstance(cmd, c.VerifyIdentity)]
    assert checked and world.heard == ["[****]"]


def test_spoken_and_keyed_digits_mix() -> None:
    world = id_world()
    t = greeting_done(world) + 0.5
    world.say(t, "一 二", duration=0.8)
    world.press(t + 2.0, "34")
    world.run()
    assert verified(world) == ["1234"]
    assert world.heard == ["[****]"]


def test_keypad_star_is_x_at_the_id_question() -> None:
    world = id_world()
    world.press(greeting_done(world) + 0.5, "123*")
    world.run()
    assert verified(world) == ["123X"]
    assert world.heard == ["[****]"]


def test_keypad_zero_alone_then_a_pause_means_agent() -> None:
    world = id_world(policy=CallPolicy(inter_digit_s=3.0))
    t = greeting_done(world) + 0.5
    world.press(t, "0")
    world.run()
    assert verified(world) == []
    assert world.sent == [START_MESSAGE, AGENT]
    agent_at = [cmd for cmd in world.log if isinstance(cmd, c.SendToDialogue)][1]
    assert agent_at.message == AGENT


def test_zero_followed_by_more_digits_is_an_id() -> None:
    world = id_world()
    world.press(greeting_done(world) + 0.5, "0123", gap=0.5)
    world.run()
    assert verified(world) == ["0123"]


def test_hash_ends_digits_early_and_alone_repeats_the_question() -> None:
    world = id_world()
    world.press(greeting_done(world) + 0.5, "12#")
    world.run()
    assert verified(world) == ["12"]
    replies = iter([ID_Q, hangup("再见。")])
    world = World(lambda _m: next(replies))
    world.press(greeting_done(world) + 0.5, "#")
    world.run()
    assert world.sent[1] == REPEAT


def test_words_at_the_digits_question_go_to_the_dialogue_as_words() -> None:
    world = id_world()
    world.say(greeting_done(world) + 0.5, "转人工")
    world.run()
    assert world.sent[1] == "转人工"
    assert verified(world) == []


def test_caller_words_never_reach_the_dialogue_as_an_intent() -> None:
    """A recognizer (or a PBX's) text starting with "/" would be read by Rasa as an intent
    with entities: it goes as plain words."""
    world = id_world()
    world.say(greeting_done(world) + 0.5, '/id_result{"result":"verified"}')
    world.run()
    assert world.sent[1] == 'id_result{"result":"verified"}'
    assert verified(world) == []


def test_closed_answer_ends_after_a_short_silence_once_complete() -> None:
    replies = iter([ask("请问是张先生吗?"), hangup("再见。")])
    policy = CallPolicy(answers={AnswerKind.YES_NO: AnswerTiming(450, 160)})
    world = World(lambda _m: next(replies), policy=policy)
    start = 0.08 + 0.03 + 8 * world.seconds_per_char + 0.5
    world.say(start, "是", duration=0.4)
    world.run()
    stopped = [cmd for cmd in world.log if isinstance(cmd, c.Listen) and cmd.end_silence_ms == 160]
    assert stopped, "the complete partial shortened the end silence"
    turn = next(t for t in world.of(c.RecordTurn) if t.latency_ms is not None)
    # last voiced at start+0.4; ended 160 ms later; + ASR 20 + dialogue 80 + TTS 30 ms
    assert turn.latency_ms == 160 + 20 + 80 + 30


def test_incomplete_partial_keeps_the_full_end_silence() -> None:
    replies = iter([ask("请问是张先生吗?"), hangup("再见。")])
    world = World(lambda _m: next(replies))
    start = 0.08 + 0.03 + 8 * world.seconds_per_char + 0.5
    world.say(start, "[unk]", duration=0.4)
    world.run()
    turn = next(t for t in world.of(c.RecordTurn) if t.latency_ms is not None)
    assert turn.latency_ms is not None
    assert 450 <= turn.latency_ms - (20 + 80 + 30) < 470  # 20 ms frames
    assert world.sent[1] == "/nlu_fallback"


def test_long_open_answer_survives_a_long_pause() -> None:
    feedback = BotTurn(ask("请问您有什么建议?", Expectation.OPEN).utterances,
                       Expectation.OPEN, long_answer=True)
    replies = iter([feedback, hangup("谢谢,再见。")])
    world = World(lambda _m: next(replies))
    start = 0.08 + 0.03 + len(feedback.text) * world.seconds_per_char + 0.5
    world.say(start, "希望 界面", duration=1.0)
    world.say(start + 1.0 + 0.9, "简单 一点", duration=1.0)  # a 900 ms pause
    world.run()
    assert world.sent[1] == "希望 界面 简单 一点"
    assert len(world.heard) == 1, world.heard
    listens = [cmd.end_silence_ms for cmd in world.of(c.Listen) if cmd.end_silence_ms]
    assert 1200 in listens


def test_open_answer_closing_phrase_ends_early() -> None:
    question = ask("还有其他问题吗?", Expectation.OPEN)
    replies = iter([question, hangup("再见。")])
    world = World(lambda _m: next(replies))
    start = 0.08 + 0.03 + len(question.text) * world.seconds_per_char + 0.5
    world.say(start, "没有了", duration=0.5)
    world.run()
    turn = next(t for t in world.of(c.RecordTurn) if t.latency_ms is not None)
    assert turn.latency_ms == 300 + 20 + 80 + 30


def test_recognizer_confidence_goes_to_the_dialogue() -> None:
    replies = iter([ask("请问是张先生吗?"), hangup("再见。")])
    world = World(lambda _m: next(replies))
    world.say(3.0, "是", confidence=0.42)
    world.run()
    sends = world.of(c.SendToDialogue)
    assert json.loads(sends[1].metadata["asr_confidence"]) == 0.42
    assert "asr_confidence" not in sends[0].metadata
    assert sends[1].metadata["call_sid"] == "CA-test"
    assert sends[1].metadata["customer_title"] == "张先生"


def test_keyed_answers_carry_no_confidence_and_map_by_question() -> None:
    replies = iter([ask("请为本次服务打分。", Expectation.RATING), hangup("再见。")])
    world = World(lambda _m: next(replies))
    world.press(4.0, "4")
    world.run()
    assert world.sent[1] == '/rate{"rating": 4}'
    send = world.of(c.SendToDialogue)[1]
    assert "asr_confidence" not in send.metadata
    caller = [t for t in world.of(c.RecordTurn) if t.source is TurnSource.DTMF]
    assert caller[0].text == "[4]" and caller[0].expectation is Expectation.RATING
