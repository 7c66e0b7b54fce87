"""No-input policy per stage: the question again, then "are you still there?", then — before
the caller's identity is verified — a polite goodbye (abandoned), after it a person takes over
(reason ``no_input``). Any answer resets the count."""

from __future__ import annotations

from ivr.call import commands as c
from ivr.call.policy import CallPolicy
from ivr.call.prompts import SystemPrompt
from ivr.core.types import CallOutcome, Expectation
from ivr.dialogue.turns import BotTurn
from ivr.store.records import Counter, TurnSource
from tests.call.timeline import PROMPTS, World, ask, hangup

QUESTION = "请问是张先生吗?"
POLICY = CallPolicy(no_input_s=5.0, no_input_limit=3)


def system_texts(world: World) -> list[str]:
    return [" ".join(u.text for u in s.utterances) for s in world.of(c.Speak)
            if s.source is TurnSource.SYSTEM]


def test_before_identity_silence_ends_politely() -> None:
    world = World(lambda _m: ask(QUESTION), policy=POLICY)
    world.run()
    still = PROMPTS.text(SystemPrompt.STILL_THERE, world.lang)
    goodbye = PROMPTS.text(SystemPrompt.NO_INPUT_GOODBYE, world.lang)
    assert system_texts(world) == [QUESTION, f"{still} {QUESTION}", goodbye]
    assert world.counted(Counter.NO_INPUT) == 3
    assert world.outcome is CallOutcome.ABANDONED
    assert world.handoffs == []


def test_after_identity_silence_escalates() -> None:
    verified = BotTurn(ask("您的信息是否正确?").utterances, Expectation.YES_NO,
                       events=({"identity_verified": True},))
    replies = iter([ask("请说身份证后四位。", Expectation.DIGITS), verified])
    world = World(lambda _m: next(replies), policy=POLICY)
    world.press(3.0, "1234")
    world.run()
    assert world.counted(Counter.NO_INPUT) == 3
    assert [h.reason for h in world.handoffs] == ["no_input"]
    assert system_texts(world)[-1] == PROMPTS.text(SystemPrompt.NO_INPUT_HANDOFF, world.lang)
    assert any(u.fields.get("escalation_reason") == "no_input" for u in world.of(c.UpdateCall))
    assert world.outcome is CallOutcome.ESCALATED


def test_identity_verified_by_the_ivrs_own_check_counts_too() -> None:
    replies = iter([ask("请说身份证后四位。", Expectation.DIGITS), ask("您的信息是否正确?")])
    world = World(lambda _m: next(replies), policy=POLICY,
                  verify=lambda d: ('/id_result{"result": "verified"}', True))
    world.press(3.0, "1234")
    world.run()
    assert world.sent[1] == '/id_result{"result": "verified"}'
    assert [h.reason for h in world.handoffs] == ["no_input"]


def test_an_answer_resets_the_count() -> None:
    replies = iter([ask(QUESTION), ask("您的信息是否正确?"), hangup("再见。")])
    world = World(lambda _m: next(replies), policy=POLICY)
    first_done = 0.11 + len(QUESTION) * world.seconds_per_char
    # silent twice (reprompt, still there), then answers: the next question starts from 0
    repeat_done = first_done + 5.0 + 0.03 + len(QUESTION) * world.seconds_per_char
    world.say(repeat_done + 5.0 + 3.0, "是")
    world.run()
    events = [cmd.detail["count"] for cmd in world.of(c.RecordEvent) if cmd.kind == "no_input"]
    assert events == [1, 2, 1, 2, 3]
    assert world.outcome is CallOutcome.ABANDONED


def test_no_input_timer_waits_for_the_prompt_to_finish() -> None:
    long_question = "您好," * 20 + QUESTION  # ~12 s of speech, longer than the timer
    world = World(lambda _m: ask(long_question), policy=POLICY)
    world.run(until=15.0)
    assert world.counted(Counter.NO_INPUT) == 0
