"""Turn-taking on a scripted timeline: barge-in rules (incl. the uninterruptible notice and the
echo gate), keypad while the bot thinks, outbound callee-first, hand-over, errors, the maximum
call length, hang-up and shutdown — and that "ended" is one fact."""

from __future__ import annotations

from ivr.call import commands as c
from ivr.call import events as e
from ivr.call.controller import START_MESSAGE
from ivr.call.model import State, Timer
from ivr.call.policy import CallPolicy
from ivr.call.prompts import SystemPrompt
from ivr.core.types import CallOutcome, Expectation
from ivr.dialogue.keypad import AGENT
from ivr.store.records import Counter, Role, TurnSource
from tests.call.timeline import PROMPTS, World, ask, handoff, hangup

LONG = "您可以在首页的账单中查看交易记录,也可以按日期金额或类型筛选。还有其他问题吗?"


def faq_world(**kw: object) -> World:
    replies = iter([ask(LONG, Expectation.OPEN), hangup("好的,再见。")])
    return World(lambda _m: next(replies), **kw)  # type: ignore[arg-type]


def prompt_start(world: World) -> float:
    return 0.08 + 0.03  # dialogue + TTS after the call starts


def test_speech_with_words_interrupts_a_prompt() -> None:
    world = faq_world()
    t = prompt_start(world) + 2.0
    world.say(t, "没有了", duration=0.6)
    world.run()
    stop = world.of(c.StopAudio)
    assert len(stop) == 1 and world.counted(Counter.BARGE_INS) == 1
    cut = [s for s in world.spoken if s[3]]
    assert cut and cut[0][2] - t <= 0.3, "the prompt stopped within 300 ms of speech"
    caller = [t for t in world.of(c.RecordTurn) if t.role is Role.CALLER]
    assert caller[0].barge_in and caller[0].text == "没有了"


def test_short_noise_does_not_interrupt() -> None:
    world = faq_world()
    world.say(prompt_start(world) + 2.0, "[unk]", duration=0.3)
    world.run()
    assert world.of(c.StopAudio) == []
    assert world.counted(Counter.BARGE_INS) == 0
    assert world.of(c.DropSpeech), "the recognizer stream of the noise is dropped"


def test_long_speech_without_words_still_interrupts() -> None:
    world = faq_world(policy=CallPolicy(barge_in_max_ms=700))
    world.say(prompt_start(world) + 2.0, "[unk]", duration=1.5)
    world.run()
    assert world.counted(Counter.BARGE_INS) == 1


def test_echo_the_gate_explains_never_interrupts() -> None:
    world = faq_world()
    world.say(prompt_start(world) + 2.0, "好的", duration=1.5, caller_share=0.0)
    world.run()
    assert world.counted(Counter.BARGE_INS) == 0
    assert world.of(c.StopAudio) == []


def test_the_recording_notice_cannot_be_interrupted_and_keys_wait_for_it() -> None:
    notice = ask("请说身份证后四位。", Expectation.DIGITS, notice="本次通话可能会被录音。")
    replies = iter([notice, hangup("再见。")])
    world = World(lambda _m: next(replies))
    world.say(prompt_start(world) + 2.0, "一 三 五 七", duration=1.2)
    world.press(prompt_start(world) + 4.0, "1357")
    world.run()
    assert world.counted(Counter.BARGE_INS) == 0
    notice_end = world.bot_done_at(1)
    sent_at = [cmd for cmd in world.of(c.VerifyIdentity)]
    assert sent_at and sent_at[0].digits == "1357"
    assert world.heard == ["[****]"]
    assert notice_end > prompt_start(world) + 8.0


def test_keypad_zero_while_thinking_asks_for_an_agent_after_the_reply() -> None:
    replies = iter([ask("请问是张先生吗?"), ask(LONG, Expectation.OPEN),
                    handoff("正在为您转接人工客服。", "agent_request")])
    world = World(lambda _m: next(replies), dialogue_s=1.0)
    world.say(4.0, "是")
    world.press(4.8, "0")  # while the dialogue is thinking
    world.press(4.9, "5")  # other keys while thinking are ignored
    world.run()
    assert world.sent == [START_MESSAGE, "是", AGENT]
    assert world.handoffs[0].reason == "agent_request"
    assert [cmd.code for cmd in world.of(c.RecordEvent) if cmd.kind == "dtmf"] == [""] * 2


def test_outbound_greets_after_the_callees_first_words() -> None:
    replies = iter([ask("您好,请问是张先生吗?"), hangup("再见。", CallOutcome.WRONG_PARTY)])
    world = World(lambda _m: next(replies), outbound=True)
    world.say(0.3, "喂", duration=0.4)
    world.run(until=3.0)
    send = world.of(c.SendToDialogue)
    assert send[0].message == START_MESSAGE
    assert world.heard == []  # the callee's "喂" is no answer
    # greeted once the callee's "喂" ended (0.7 s + the end silence), before the 1.5 s silence
    assert 0.7 + 0.45 <= world.sent_at[0] < 1.5


def test_outbound_greets_after_a_silence_when_the_callee_says_nothing() -> None:
    replies = iter([ask("您好,请问是张先生吗?")])
    world = World(lambda _m: next(replies), outbound=True,
                  policy=CallPolicy(callee_silence_s=1.5))
    world.run(until=1.4)
    assert world.sent == []
    world.run(until=1.6)
    assert world.sent == [START_MESSAGE]


def test_handoff_waits_for_the_notice_then_holds_until_the_queue_answers() -> None:
    replies = iter([handoff("正在为您转接人工客服,请稍候。", "agent_request")])
    world = World(lambda _m: next(replies), agent=(30.0, CallOutcome.ESCALATED))
    world.press(1.0, "1")  # ignored while on hold / speaking a handoff notice
    world.run()
    assert world.handoffs and world.outcome is CallOutcome.ESCALATED
    start = next(i for i, cmd in enumerate(world.log) if isinstance(cmd, c.StartHandoff))
    assert any(isinstance(cmd, c.RecordTurn) for cmd in world.log[:start])
    assert len(world.sent) == 1


def test_caller_hanging_up_on_hold_is_abandoned() -> None:
    replies = iter([handoff("正在为您转接人工客服,请稍候。", "complaint")])
    world = World(lambda _m: next(replies), agent=None)
    world.hang_up(20.0)
    world.run()
    assert world.outcome is CallOutcome.ABANDONED
    assert world.ended[0].drain is False


def test_queue_timeout_prompt_is_spoken_before_the_end() -> None:
    world = World(lambda _m: handoff("请稍候。", "agent_request"), agent=None)
    world.run(until=10)
    world.feed(e.HandoffFinished(world.now, CallOutcome.ESCALATED, SystemPrompt.QUEUE_TIMEOUT))
    speaks = world.of(c.Speak)
    assert speaks[-1].utterances[0].text == PROMPTS.text(SystemPrompt.QUEUE_TIMEOUT, world.lang)
    assert not world.ended
    world.run()
    assert world.outcome is CallOutcome.ESCALATED


def test_dialogue_failure_apologises_and_ends_failed() -> None:
    world = World(lambda _m: "dialogue_timeout")
    world.run()
    assert world.outcome is CallOutcome.FAILED
    speaks = world.of(c.Speak)
    assert speaks[0].source is TurnSource.SYSTEM and speaks[0].interruptible is False
    assert any(u.fields.get("error_code") == "dialogue_timeout" for u in world.of(c.UpdateCall))


def test_maximum_call_length_ends_with_a_spoken_goodbye() -> None:
    world = World(lambda _m: ask("请问是张先生吗?"), policy=CallPolicy(max_call_s=20.0,
                                                                       no_input_s=100.0))
    world.run()
    goodbye = world.of(c.Speak)[-1]
    assert "通话时间" in goodbye.utterances[0].text
    assert world.outcome is CallOutcome.ABANDONED
    assert world.ended[0].reason == "max_duration"
    assert world.now >= 20.0


def test_hang_up_mid_prompt_ends_once_and_nothing_follows() -> None:
    world = faq_world()
    world.hang_up(1.0)
    world.shutdown(1.5)
    world.run()
    world.feed(e.TimerFired(99.0, Timer.NO_INPUT))
    assert len(world.ended) == 1
    assert world.outcome is CallOutcome.ABANDONED
    assert world.ctrl.state is State.ENDED
    assert world.ctrl.handle(e.DigitPressed(100.0, "1")) == []


def test_shutdown_ends_at_once_without_blaming_the_caller() -> None:
    world = faq_world()
    world.shutdown(1.0)
    world.run()
    end = world.ended[0]
    assert end.outcome is CallOutcome.FAILED and end.error_code == "shutdown"
    assert end.drain is False


def test_hang_up_during_the_goodbye_keeps_the_dialogues_outcome() -> None:
    replies = iter([hangup("不好意思打扰了,再见。", CallOutcome.WRONG_PARTY)])
    world = World(lambda _m: next(replies))
    world.hang_up(1.0)
    world.run()
    assert world.outcome is CallOutcome.WRONG_PARTY


def test_no_agent_goes_back_to_the_dialogue_which_asks_for_a_callback() -> None:
    replies = iter([handoff("请稍候。", "agent_request"),
                    ask("请问什么时候给您回电比较方便?", Expectation.OPEN),
                    hangup("好的,我们明天上午10点再给您打过来。再见!")])
    world = World(lambda _m: next(replies), agent=None)
    world.run(until=10)
    assert world.ctrl.state is State.ON_HOLD and world.handoffs
    world.feed(e.HandoffFinished(world.now, CallOutcome.ESCALATED, None, "/agent_unavailable"))
    assert world.sent[-1] == "/agent_unavailable"
    world.say(world.now + 5.0, "明天上午", duration=0.8)
    world.run()
    assert world.sent[-1] == "明天上午"
    assert world.outcome is CallOutcome.COMPLETED


def test_silence_after_the_no_agent_question_ends_escalated_without_a_second_handoff() -> None:
    replies = iter([handoff("请稍候。", "agent_request"),
                    ask("请问什么时候给您回电比较方便?", Expectation.OPEN)])
    world = World(lambda _m: next(replies), agent=None)
    world.run(until=10)
    world.feed(e.HandoffFinished(world.now, CallOutcome.ESCALATED, None, "/agent_unavailable"))
    world.run()
    assert len(world.handoffs) == 1
    assert world.outcome is CallOutcome.ESCALATED
    speaks = world.of(c.Speak)
    assert speaks[-1].utterances[0].text == PROMPTS.text(SystemPrompt.NO_INPUT_GOODBYE,
                                                         world.lang)
