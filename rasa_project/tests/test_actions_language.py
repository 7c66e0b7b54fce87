"""Switching the call's language on request: the switch itself (slot + the IVR's payload),
then the pending question again in the new language, read-backs composed in it."""

from __future__ import annotations

from typing import Any

import pytest

from actions.language import ActionAskAgain, ActionSwitchLanguage
from actions.session import slots_from_metadata
from conftest import FakeApi, run, tracker


def _asked(response: str, custom: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bot event as Rasa stores it for a question the bot asked before the switch."""
    return {"event": "bot", "text": "…", "data": {"custom": custom or {"expect": "yes_no"}},
            "metadata": {"utter_action": response}}


def _before(*bots: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"event": "user", "text": "/call_start"}, *bots]


def test_the_switch_sets_the_language_and_tells_the_ivr(domain: dict[str, Any]) -> None:
    r = run(ActionSwitchLanguage(), tracker("能说英语吗", "switch_to_en"), domain)
    assert r.slots == {"language": "en", "customer_title": "Mr. Zhang"}
    assert r.customs == [{"switch_language": "en"}]
    assert r.responses == []  # said by action_ask_again, which sees the new language


def test_back_to_mandarin(domain: dict[str, Any]) -> None:
    meta = {"customer_title": "张先生", "customer_name": "张伟明"}
    r = run(ActionSwitchLanguage(), tracker("Chinese please", "switch_to_zh", slots={
        "language": "en", "customer_title": "Mr. Zhang", "customer_name": "张伟明",
        "session_started_metadata": meta}), domain)
    assert r.slots == {"language": "zh", "customer_title": "张先生"}
    assert r.customs == [{"switch_language": "zh"}]


@pytest.mark.parametrize(("title", "name", "target", "said"), [
    ("王先生", "王强", "en", "Mr. Wang"),
    ("李女士", "李娜", "en", "Ms. Li"),
    ("Mr. Smith", "Alex Smith", "zh", "Smith先生"),
    ("Ms. Chen", "Jamie Chen", "zh", "陈女士"),
    ("Mr. Wang", "汪伟", "zh", "汪先生"),
    (None, "王强", "en", "the account holder"),  # a Chinese name the English voice cannot say
    (None, None, "en", "the account holder"),
])
def test_the_customers_title_is_said_in_the_new_language(
        domain: dict[str, Any], title: str | None, name: str | None, target: str,
        said: str) -> None:
    """Rendered from the record's title as the call got it, never left in the old language."""
    start = "en" if target == "zh" else "zh"
    meta = {"customer_title": title, "customer_name": name}
    current = slots_from_metadata({**meta, "language": start})["customer_title"]
    t = tracker("switch", f"switch_to_{target}", slots={
        "language": start, "customer_title": current, "customer_name": name,
        "session_started_metadata": meta})
    assert run(ActionSwitchLanguage(), t, domain).slots["customer_title"] == said


def test_the_question_asked_again_names_the_customer_in_the_new_language(
        api: FakeApi, domain: dict[str, Any]) -> None:
    """action_ask_again renders with the slots action_switch_language set: the pending identity
    question in English names Mr. Zhang, the read-back of an unsure yes too."""
    switched = run(ActionSwitchLanguage(), tracker("English please", "switch_to_en"), domain)
    pending = {"kind": "identity_yes", "question": "identity", "repeat": []}
    t = tracker("English please", "switch_to_en",
                slots={**switched.slots, "awaiting": "confirm_answer",
                       "pending_answer": pending},
                events=_before(_asked("utter_ask_confirm_answer")))
    said = run(ActionAskAgain(), t, domain).message("utter_ask_confirm_answer")["confirm_what"]
    assert "Mr. Zhang" in said and "张" not in said


def test_asking_for_the_language_already_spoken_switches_nothing(
        domain: dict[str, Any]) -> None:
    r = run(ActionSwitchLanguage(), tracker("说中文", "switch_to_zh"), domain)
    assert r.events == [] and r.messages == []


def test_the_pending_question_is_asked_again(api: FakeApi, domain: dict[str, Any]) -> None:
    t = tracker("能说英语吗", "switch_to_en", slots={"language": "en", "awaiting": "identity"},
                events=_before(_asked("utter_ask_identity")))
    r = run(ActionAskAgain(), t, domain)
    assert r.responses == ["utter_language_switched", "utter_ask_identity"]
    assert "awaiting" not in r.slots  # the same question stays pending


def test_a_rephrase_is_asked_again_plainly(api: FakeApi, domain: dict[str, Any]) -> None:
    t = tracker("English please", "switch_to_en",
                slots={"language": "en", "awaiting": "rating"},
                events=_before(_asked("utter_ask_rating_rephrase", {"expect": "rating"})))
    assert run(ActionAskAgain(), t, domain).responses[-1] == "utter_ask_rating"


def test_the_question_as_asked_wins_over_the_generic_one(api: FakeApi,
                                                         domain: dict[str, Any]) -> None:
    # after "no agent now" the pending callback question is the agent's own wording
    t = tracker("English please", "switch_to_en",
                slots={"language": "en", "awaiting": "callback_time"},
                events=_before(_asked("utter_ask_agent_callback_time", {"expect": "open"})))
    assert run(ActionAskAgain(), t, domain).responses[-1] == "utter_ask_agent_callback_time"


def test_without_a_recorded_question_the_pending_one_is_asked(api: FakeApi,
                                                              domain: dict[str, Any]) -> None:
    # a repeated turn (action_repeat_last) carries no utter_action
    t = tracker("English please", "switch_to_en",
                slots={"language": "en", "awaiting": "any_question"},
                events=_before({"event": "bot", "text": "…", "data": {"custom": {
                    "expect": "open"}}, "metadata": {}}))
    assert run(ActionAskAgain(), t, domain).responses[-1] == "utter_ask_any_question"
    t = tracker("English please", "switch_to_en", slots={"language": "en", "awaiting": None})
    assert run(ActionAskAgain(), t, domain).responses[-1] == "utter_ask_generic_rephrase"


def test_the_read_back_is_composed_again_in_the_new_language(
        api: FakeApi, domain: dict[str, Any]) -> None:
    t = tracker("English please", "switch_to_en",
                slots={"language": "en", "awaiting": "info_confirm"},
                events=_before(_asked("utter_ask_info_confirm")))
    r = run(ActionAskAgain(), t, domain)
    readback = r.message("utter_ask_info_confirm")["readback"]
    assert "phone number starting 1 3 8, ending in 5 6 7 8" in readback
    t = tracker("说中文", "switch_to_zh", slots={"language": "zh", "awaiting": "info_confirm"},
                events=_before(_asked("utter_ask_info_confirm")))
    readback_zh = run(ActionAskAgain(), t, domain).message("utter_ask_info_confirm")["readback"]
    assert "phone number" not in readback_zh and "5 6 7 8" in readback_zh


def test_a_read_back_of_an_unsure_answer_is_composed_again(api: FakeApi,
                                                           domain: dict[str, Any]) -> None:
    pending = {"kind": "low_rating", "question": "rating", "repeat": [], "rating": 2}
    t = tracker("English please", "switch_to_en",
                slots={"language": "en", "awaiting": "confirm_answer",
                       "pending_answer": pending, "confirm_what": "不满意,打 2 分"},
                events=_before(_asked("utter_ask_confirm_answer")))
    r = run(ActionAskAgain(), t, domain)
    said = r.message("utter_ask_confirm_answer")["confirm_what"]
    assert said == "you were not satisfied, 2 out of 5"
    assert r.slots == {"confirm_what": said}


def test_when_the_record_cannot_be_read_an_agent_takes_over(api_down: str,
                                                            domain: dict[str, Any]) -> None:
    t = tracker("English please", "switch_to_en",
                slots={"language": "en", "awaiting": "info_confirm"},
                events=_before(_asked("utter_ask_info_confirm")))
    assert run(ActionAskAgain(), t, domain).responses == ["utter_handoff_system_error"]
