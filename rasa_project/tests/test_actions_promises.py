"""Issue 11 in the dialogue: callbacks read back as the IVR placed them, opt-out, a third
party answering, goodbye at the opening, wrong party flags the phone."""

from __future__ import annotations

from typing import Any

import pytest
from actions.flow import (
    ActionFaqInfoChange,
    ActionGoodbye,
    ActionIdentityDenied,
    ActionOfferAnswer,
    ActionRecordCallback,
    ActionRecordCorrection,
)
from actions.promises import ActionAgentUnavailable, ActionNotAvailable, ActionOptOut
from conftest import FakeApi, run, tracker


def _hangup(r: Any) -> str:
    return next(c["hangup"]["outcome"] for c in r.customs if "hangup" in c)


def _custom(domain: dict[str, Any], response: str, lang: str = "zh") -> dict[str, Any]:
    variants = domain["responses"][response]
    variant = variants[-1] if lang == "en" else variants[0]
    return dict(variant.get("custom") or {})


@pytest.mark.parametrize(("words", "lang", "when"), [
    ("明天上午", "zh", "明天上午10点"),
    ("下午三点以后", "zh", "今天晚上6点半"),
    ("after 6 pm", "en", "today at 6:30 pm"),
    ("next Monday", "en", "Monday, December 7 at 12 pm"),
    ("晚 点 再 打", "zh", "今天中午12点"),
])
def test_the_callback_is_read_back_as_booked(api: FakeApi, domain: dict[str, Any], words: str,
                                             lang: str, when: str) -> None:
    r = run(ActionRecordCallback(), tracker(words, "reschedule", slots={
        "awaiting": "callback_time", "language": lang}), domain)
    assert r.responses == ["utter_callback_recorded"]
    assert r.message("utter_callback_recorded")["when"] == when
    assert _custom(domain, "utter_callback_recorded")["hangup"]["outcome"] == "reschedule"
    assert [f["kind"] for f in api.call()["followups"]] == ["callback"]


def test_opt_out_is_recorded_then_the_call_ends_politely(api: FakeApi,
                                                         domain: dict[str, Any]) -> None:
    r = run(ActionOptOut(), tracker("别再给我打电话了", "opt_out",
                                    slots={"awaiting": "rating"}), domain)
    assert r.responses == ["utter_opt_out_confirmed"]
    assert api.call()["opt_out"]
    assert _custom(domain, "utter_opt_out_confirmed")["hangup"]["outcome"] == "completed"


def test_opt_out_that_cannot_be_recorded_goes_to_an_agent(api_down: str,
                                                          domain: dict[str, Any]) -> None:
    r = run(ActionOptOut(), tracker("stop calling me", "opt_out",
                                    slots={"awaiting": "identity", "language": "en"}), domain)
    assert r.responses == ["utter_handoff_system_error"]  # never a promise not written down


def test_a_third_party_is_asked_when_then_the_call_ends_not_available(
        api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionNotAvailable(), tracker("他不在", "not_available",
                                          slots={"awaiting": "identity"}), domain)
    assert r.responses == ["utter_not_available"]
    assert r.slots == {"third_party": True, "awaiting": "callback_time"}
    assert _custom(domain, "utter_not_available")["expect"] == "open"
    r = run(ActionRecordCallback(), tracker("明天晚上", "reschedule", slots={
        "awaiting": "callback_time", "third_party": True}), domain)
    assert r.responses == ["utter_callback_recorded_third_party"]
    assert r.message("utter_callback_recorded_third_party")["when"] == "明天晚上6点"
    assert _custom(domain, "utter_callback_recorded_third_party")["hangup"] == {
        "outcome": "not_available"}
    assert api.call()["followups"][0]["kind"] == "callback"


def test_a_third_party_who_gives_no_time_ends_not_available(api: FakeApi,
                                                            domain: dict[str, Any]) -> None:
    r = run(ActionRecordCallback(), tracker("不用了", "deny", slots={
        "awaiting": "callback_time", "third_party": True}), domain)
    assert r.responses == ["utter_not_available_goodbye"]
    assert _custom(domain, "utter_not_available_goodbye")["hangup"] == {
        "outcome": "not_available"}
    assert not api.call()["followups"]


def test_wrong_party_flags_the_phone_for_review(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionIdentityDenied(), tracker("不是", "deny", confidence=0.95,
                                            slots={"awaiting": "identity"}), domain)
    assert r.responses == ["utter_wrong_party"]
    assert [f["kind"] for f in api.call()["followups"]] == ["phone_review"]
    assert _custom(domain, "utter_wrong_party")["hangup"] == {"outcome": "wrong_party"}


@pytest.mark.parametrize(("awaiting", "expected"), [
    ("identity", ["utter_goodbye_early"]),
    ("any_question", ["utter_goodbye"]),
])
def test_goodbye_at_the_opening_ends_early(api: FakeApi, domain: dict[str, Any],
                                           awaiting: str | None, expected: list[str]) -> None:
    r = run(ActionGoodbye(), tracker("再见", "goodbye", slots={"awaiting": awaiting}), domain)
    assert r.responses == expected
    assert _custom(domain, "utter_goodbye_early")["hangup"] == {"outcome": "ended_early"}


def test_no_agent_asks_when_an_agent_should_call_back(api: FakeApi,
                                                      domain: dict[str, Any]) -> None:
    r = run(ActionAgentUnavailable(), tracker("/agent_unavailable", "agent_unavailable",
                                              slots={"awaiting": "any_question"}), domain)
    assert r.responses == ["utter_ask_agent_callback_time"]
    assert r.slots == {"agent_callback": True, "awaiting": "callback_time"}
    assert _custom(domain, "utter_ask_agent_callback_time")["expect"] == "open"
    r = run(ActionRecordCallback(), tracker("tomorrow morning", "reschedule", slots={
        "awaiting": "callback_time", "agent_callback": True, "language": "en"}), domain)
    assert r.responses == ["utter_callback_recorded_agent"]
    assert r.message("utter_callback_recorded_agent")["when"] == "tomorrow at 10 am"
    assert _custom(domain, "utter_callback_recorded_agent", "en")["hangup"] == {
        "outcome": "escalated"}
    assert [f["kind"] for f in api.call()["followups"]] == ["callback"]


def test_no_agent_and_no_callback_wanted(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionRecordCallback(), tracker("不用了", "deny", slots={
        "awaiting": "callback_time", "agent_callback": True}), domain)
    assert r.responses == ["utter_agent_callback_declined"]
    assert not api.call()["followups"]


def test_an_agent_callback_that_cannot_be_booked_ends_with_an_apology(
        api_down: str, domain: dict[str, Any]) -> None:
    r = run(ActionRecordCallback(), tracker("明天上午", "reschedule", slots={
        "awaiting": "callback_time", "agent_callback": True}), domain)
    assert r.responses == ["utter_callback_not_recorded"]  # no second handoff: nobody is there


@pytest.mark.parametrize(("text", "intent", "sent"), [
    ("好的,发给我吧", "affirm", True), ("不用了", "deny", False),
])
def test_an_accepted_offer_is_sent(api: FakeApi, domain: dict[str, Any], text: str,
                                   intent: str, sent: bool) -> None:
    r = run(ActionOfferAnswer(), tracker(text, intent, slots={"awaiting": "offer"}), domain)
    assert ("offer_sent" in api.call()) is sent
    assert r.responses[0] == ("utter_offer_accepted" if sent else "utter_offer_declined")


def test_several_corrections_each_make_their_own_follow_up(api: FakeApi,
                                                           domain: dict[str, Any]) -> None:
    read = {"read_fields": ["name", "phone", "card", "city"]}
    first = run(ActionRecordCorrection(), tracker("手机号不对", "inform_item",
                                                  slots={"awaiting": "which_item", **read}),
                domain)
    slots = {**read, **first.slots, "awaiting": "anything_else"}
    second = run(ActionFaqInfoChange(), tracker("地址也不对", "inform_item", slots=slots), domain)
    assert second.responses == ["utter_correction_recorded", "utter_info_change_howto",
                                "utter_ask_anything_else"]
    call = api.call()
    assert call["results"]["corrections"] == ["phone", "city"]
    assert [(f["kind"], "地址也不对" in f["detail"]) for f in call["followups"]] == [
        ("info_correction", False), ("info_correction", True)]
    promised = second.slots["followups_promised"]
    assert [p["item"] for p in promised] == ["phone", "city"]
    # a question about changing information is no correction
    third = run(ActionFaqInfoChange(), tracker("怎么修改地址", "faq_info_change",
                                               slots={**slots, **second.slots}), domain)
    assert third.responses == ["utter_info_change_howto", "utter_ask_anything_else"]
    assert len(api.call()["followups"]) == 2
