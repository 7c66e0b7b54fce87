"""A language switch asked for mid-call ("English please", "说中文"): the dialogue's turn that
answers it carries the new language; from that turn on the IVR speaks, prompts and listens in
it, tells the dialogue so with every message, and records the switch on the call."""

from __future__ import annotations

from ivr.call import commands as c
from ivr.call.prompts import SystemPrompt
from ivr.core.types import Expectation, Language
from ivr.dialogue.turns import BotTurn, Utterance
from tests.call.timeline import PROMPTS, World, ask, hangup

QUESTION_EN = "Am I speaking with Mr. Zhang?"


def switching(replies: list[BotTurn]) -> World:
    it = iter(replies)
    return World(lambda _m: next(it))


def to_english() -> BotTurn:
    return BotTurn((Utterance("Sure, let's continue in English."), Utterance(QUESTION_EN)),
                   Expectation.YES_NO, language=Language.EN)


def test_the_switch_comes_before_the_turn_it_answers_and_is_recorded() -> None:
    world = switching([ask("请问是张先生吗?"), to_english(), hangup("Goodbye.")])
    world.say(4.0, "说 英语")
    world.say(12.0, "yes")
    world.run()
    kinds = [type(cmd) for cmd in world.log]
    switch = kinds.index(c.SwitchLanguage)
    speak_en = next(i for i, cmd in enumerate(world.log)
                    if isinstance(cmd, c.Speak) and cmd.utterances[-1].text == QUESTION_EN)
    assert switch < speak_en
    assert world.of(c.SwitchLanguage) == [c.SwitchLanguage(Language.EN)]
    events = [(e.kind, e.code, dict(e.detail)) for e in world.of(c.RecordEvent)
              if e.kind == "language_switch"]
    assert events == [("language_switch", "en", {"from": "zh"})]
    assert c.UpdateCall({"language": Language.EN}) in world.of(c.UpdateCall)
    # every later message tells the dialogue the new language
    metas = [cmd.metadata["language"] for cmd in world.of(c.SendToDialogue)]
    assert metas == ["zh", "zh", "en"]


def test_system_prompts_follow_the_new_language() -> None:
    world = switching([ask("请问是张先生吗?"), to_english()])
    world.say(4.0, "说 英语")
    world.run(until=60.0)  # then silence: the no-input prompts
    still_en = PROMPTS.text(SystemPrompt.STILL_THERE, Language.EN)
    goodbye_en = PROMPTS.text(SystemPrompt.NO_INPUT_GOODBYE, Language.EN)
    spoken = [u.text for s in world.of(c.Speak) for u in s.utterances]
    assert still_en in spoken and goodbye_en in spoken
    assert PROMPTS.text(SystemPrompt.STILL_THERE, Language.ZH) not in spoken


def test_asking_for_the_language_already_spoken_changes_nothing() -> None:
    same = BotTurn((Utterance("好的。"), Utterance("请问是张先生吗?")), Expectation.YES_NO,
                   language=Language.ZH)
    world = switching([ask("请问是张先生吗?"), same, hangup("再见。")])
    world.say(4.0, "说 中文")
    world.say(12.0, "是")
    world.run()
    assert world.of(c.SwitchLanguage) == []
    assert not [e for e in world.of(c.RecordEvent) if e.kind == "language_switch"]
    assert [cmd.metadata["language"] for cmd in world.of(c.SendToDialogue)] == ["zh"] * 3


def test_switching_back_and_forth_records_each_switch() -> None:
    back = BotTurn((Utterance("好的,我们说中文。"), Utterance("请问是张先生吗?")),
                   Expectation.YES_NO, language=Language.ZH)
    world = switching([ask("请问是张先生吗?"), to_english(), back, hangup("再见。")])
    world.say(4.0, "说 英语")
    world.say(14.0, "chinese please")
    world.say(24.0, "是")
    world.run()
    assert world.of(c.SwitchLanguage) == [c.SwitchLanguage(Language.EN),
                                          c.SwitchLanguage(Language.ZH)]
    metas = [cmd.metadata["language"] for cmd in world.of(c.SendToDialogue)]
    assert metas == ["zh", "zh", "en", "zh"]
