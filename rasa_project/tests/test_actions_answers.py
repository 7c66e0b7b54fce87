"""Information check, corrections, FAQ, rating, feedback, offer, escalations, callback."""

from __future__ import annotations

from typing import Any

import pytest
from actions import confidence as C
from actions.confirm import ActionConfirmAnswer
from actions.dialogue import ActionRepeatLast
from actions.flow import (
    ActionComplaint,
    ActionFaqActivation,
    ActionFaqPayment,
    ActionFraud,
    ActionGoodbye,
    ActionInfoConfirmed,
    ActionInfoDenied,
    ActionOfferAnswer,
    ActionOutOfScope,
    ActionPaymentAdvice,
    ActionPaymentInvestigation,
    ActionRate,
    ActionRecordCallback,
    ActionRecordCorrection,
    ActionStoreFeedback,
)
from conftest import FakeApi, run, tracker

READ = {"read_fields": ["name", "phone", "card", "city"]}


def test_info_confirmed_posts_fields_then_proactive_help(api: FakeApi,
                                                         domain: dict[str, Any]) -> None:
    r = run(ActionInfoConfirmed(), tracker("对", "affirm",
                                           slots={"awaiting": "info_confirm", **READ}), domain)
    assert api.call()["results"]["confirmed_fields"] == ["name", "phone", "card", "city"]
    assert r.responses[-2:] == ["utter_proactive_payment", "utter_ask_proactive_help"]
    assert r.slots["awaiting"] == "proactive_help"


@pytest.mark.parametrize(("text", "expected"), [
    ("没有问题", "confirmed"), ("没 问 题", "confirmed"), ("不对", "which_item"),
    ("不对,手机号换了", "phone"), ("no the address is wrong", "city"),
])
def test_info_denied(api: FakeApi, domain: dict[str, Any], text: str, expected: str) -> None:
    r = run(ActionInfoDenied(), tracker(text, "deny",
                                        slots={"awaiting": "info_confirm", **READ}), domain)
    call = api.call()
    if expected == "confirmed":
        assert call["results"]["confirmed_fields"] == READ["read_fields"]
    elif expected == "which_item":
        assert r.slots["awaiting"] == "which_item" and not call["followups"]
    else:
        assert call["results"]["corrections"] == [expected]
        assert call["followups"][0]["kind"] == "info_correction"
        assert expected not in call["results"]["confirmed_fields"]


def test_correction_of_the_card_is_a_bank_card_change_with_an_agent(
        api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionRecordCorrection(), tracker("银行卡号不对", "inform_item",
                                              slots={"awaiting": "which_item", **READ}), domain)
    assert r.responses == ["utter_handoff_bank_card"]
    assert api.call()["followups"][0]["kind"] == "bank_card_change"
    assert api.call()["results"]["corrections"] == ["card"]


def test_correction_without_an_item_at_which_item_is_a_no_match(
        api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionRecordCorrection(), tracker("嗯", "inform_item",
                                              slots={"awaiting": "which_item"}), domain)
    assert {"event": {"no_match": True}} in r.customs and not api.call()["followups"]


def test_faq_activation_is_personalised(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionFaqActivation(), tracker("我的账户怎么还没激活啊", "faq_activation",
                                           slots={"awaiting": "any_question"}), domain)
    docs = r.message("utter_status_missing_docs")
    assert docs["docs"] == "身份证反面照片" and docs["days"] == "3"
    assert api.call()["results"]["faq_topics"] == ["account_activation"]
    assert r.slots["awaiting"] == "anything_else"


def test_payment_flow(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionFaqPayment(), tracker("支付失败", "faq_payment_failure"), domain)
    assert r.slots["awaiting"] == "payment_scenario"
    r = run(ActionPaymentAdvice(), tracker("扫码的时候说余额不足", "faq_payment_failure",
                                           slots={"awaiting": "payment_scenario"}), domain)
    assert r.responses == ["utter_payment_cause_heard", "utter_remedy_balance",
                           "utter_ask_payment_retried"]
    r = run(ActionPaymentInvestigation(), tracker(
        "是", "affirm", slots={"awaiting": "payment_retried",
                               "payment_context": r.slots["payment_context"]}), domain)
    followup = api.call()["followups"][0]
    assert followup["kind"] == "payment_investigation" and "余额不足" in followup["detail"]


@pytest.mark.parametrize(("text", "intent", "rating", "response"), [
    ("五分", "rate", 5, "utter_rating_thanks_high"),
    ("一般吧", "rate", 3, "utter_rating_thanks_mid"),
    ("it was okay", "rate", 3, "utter_rating_thanks_mid"),
    ("not really satisfied", "rate", 2, "utter_handoff_low_rating"),
    ("不 满 意", "deny", 2, "utter_handoff_low_rating"),
    ("/rate", "rate", 4, "utter_rating_thanks_high"),
])
def test_rating(api: FakeApi, domain: dict[str, Any], text: str, intent: str, rating: int,
                response: str) -> None:
    entities = [{"entity": "rating", "value": rating}] if text == "/rate" else []
    r = run(ActionRate(), tracker(text, intent, entities=entities, confidence=0.9,
                                  slots={"awaiting": "rating"}), domain)
    assert api.call()["results"]["rating"] == rating
    assert r.responses == [response] + (["utter_ask_feedback"] if rating > 2 else [])


@pytest.mark.parametrize(("text", "lang"), [("不用了", "zh"), ("不想评", "zh"),
                                            ("I'd rather not", "en")])
def test_declining_to_rate_goes_on_to_feedback(api: FakeApi, domain: dict[str, Any],
                                               text: str, lang: str) -> None:
    r = run(ActionRate(), tracker(text, "deny", slots={"awaiting": "rating", "language": lang}),
            domain)
    assert r.responses == ["utter_feedback_none", "utter_ask_feedback"]
    assert "rating" not in api.call()["results"]


def test_unclear_rating_is_a_no_match(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionRate(), tracker("香蕉", "rate", slots={"awaiting": "rating"}), domain)
    assert {"event": {"no_match": True}} in r.customs


def test_low_rating_heard_unsure_is_read_back_then_acted_on(api: FakeApi,
                                                            domain: dict[str, Any]) -> None:
    asked = run(ActionRate(), tracker("不满意", "rate", confidence=0.35,
                                      slots={"awaiting": "rating"}), domain)
    assert asked.responses == ["utter_ask_confirm_answer"]
    assert asked.slots["confirm_what"] == "不满意,打 2 分"
    assert "rating" not in api.call()["results"]
    r = run(ActionConfirmAnswer(), tracker("是的", "affirm", slots={
        "awaiting": "confirm_answer", "pending_answer": asked.slots["pending_answer"]}), domain)
    assert r.responses == ["utter_handoff_low_rating"]
    assert api.call()["results"]["rating"] == 2


def test_low_rating_read_back_answered_with_another_rating(api: FakeApi,
                                                           domain: dict[str, Any]) -> None:
    pending = {"kind": C.LOW_RATING, "question": "rating", "rating": 1, "repeat": []}
    r = run(ActionConfirmAnswer(), tracker("不是,四分", "rate", slots={
        "awaiting": "confirm_answer", "pending_answer": pending}), domain)
    assert api.call()["results"]["rating"] == 4
    assert r.responses == ["utter_rating_thanks_high", "utter_ask_feedback"]


def test_low_rating_read_back_denied_asks_the_rating_again(api: FakeApi,
                                                           domain: dict[str, Any]) -> None:
    pending = {"kind": C.LOW_RATING, "question": "rating", "rating": 2, "repeat": []}
    r = run(ActionConfirmAnswer(), tracker("不是", "deny", slots={
        "awaiting": "confirm_answer", "pending_answer": pending}), domain)
    assert r.responses == ["utter_ask_rating"] and r.slots["awaiting"] == "rating"
    assert "rating" not in api.call()["results"]


def test_high_rating_heard_unsure_is_not_read_back(api: FakeApi,
                                                   domain: dict[str, Any]) -> None:
    r = run(ActionRate(), tracker("五分", "rate", confidence=0.2,
                                  slots={"awaiting": "rating"}), domain)
    assert r.responses == ["utter_rating_thanks_high", "utter_ask_feedback"]


def test_rating_with_the_api_down_still_hands_a_low_rating_over(
        api_down: str, domain: dict[str, Any]) -> None:
    low = run(ActionRate(), tracker("非常不满意", "rate", slots={"awaiting": "rating"}), domain)
    assert low.responses == ["utter_handoff_low_rating"]
    high = run(ActionRate(), tracker("很满意", "rate", slots={"awaiting": "rating"}), domain)
    assert high.responses == ["utter_handoff_system_error"]


def test_fraud_report_is_urgent(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionFraud(), tracker("有一笔钱不是我花的", "fraud", confidence=0.88,
                                   slots={"awaiting": "any_question"}), domain)
    assert r.responses == ["utter_handoff_fraud"]
    followup = api.call()["followups"][0]
    assert followup["kind"] == "fraud_report" and followup["due_in_hours"] == 1


def test_fraud_report_heard_unsure_is_read_back_and_a_no_asks_the_question_again(
        api: FakeApi, domain: dict[str, Any]) -> None:
    question = {"event": "bot", "text": "请问您对钱包的使用还有什么问题吗?",
                "data": {"custom": {"expect": "open"}}}
    events = [{"event": "user", "text": "对"}, question]
    asked = run(ActionFraud(), tracker("被盗", "fraud", confidence=0.3, events=events,
                                       slots={"awaiting": "any_question"}), domain)
    assert asked.responses == ["utter_ask_confirm_answer"] and not api.call()["followups"]
    pending = asked.slots["pending_answer"]
    assert pending["question"] == "any_question"
    r = run(ActionConfirmAnswer(), tracker("不是", "deny", slots={
        "awaiting": "confirm_answer", "pending_answer": pending}), domain)
    assert r.responses == ["utter_confirm_no"]
    assert r.messages[-1]["text"] == question["text"]
    assert r.messages[-1]["custom"] == {"expect": "open"}
    assert r.slots["awaiting"] == "any_question" and not api.call()["followups"]


def test_fraud_read_back_confirmed_reports_it(api: FakeApi, domain: dict[str, Any]) -> None:
    pending = {"kind": C.FRAUD, "question": "rating", "repeat": []}
    r = run(ActionConfirmAnswer(), tracker("对", "affirm", slots={
        "awaiting": "confirm_answer", "pending_answer": pending}), domain)
    assert r.responses == ["utter_handoff_fraud"]
    assert api.call()["followups"][0]["kind"] == "fraud_report"


def test_fraud_with_the_api_down_still_hands_over(api_down: str,
                                                  domain: dict[str, Any]) -> None:
    r = run(ActionFraud(), tracker("账户被盗了", "fraud"), domain)
    assert r.responses == ["utter_handoff_fraud"]


def test_complaint_records_a_followup(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionComplaint(), tracker("太差了,我要销户", "complaint"), domain)
    assert r.responses == ["utter_handoff_complaint"]
    assert "销户" in api.call()["followups"][0]["detail"]


def test_feedback_then_offer_for_a_happy_customer(api: FakeApi,
                                                  domain: dict[str, Any]) -> None:
    r = run(ActionStoreFeedback(), tracker("希望 App 再快一点", "out_of_scope", slots={
        "awaiting": "feedback", "customer_id": "C002", "language": "en", "rating": 5}), domain)
    assert api.call()["results"]["feedback"] == "希望 App 再快一点"
    assert r.responses == ["utter_feedback_thanks", "utter_ask_offer"]


def test_offer_answer_and_closing_with_reward(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionOfferAnswer(), tracker("没问题", "deny", slots={
        "awaiting": "offer", "campaign_reward": "points:50"}), domain)
    results = api.call()["results"]
    assert results["offer"] == "accepted" and results["reward"] == {"kind": "points",
                                                                    "amount": 50}
    assert r.responses == ["utter_offer_accepted", "utter_thanks_reward", "utter_goodbye"]


def test_goodbye_summarises_promises(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionGoodbye(), tracker("再见", "goodbye", slots={
        "followups_promised": [{"kind": "info_correction", "item": "phone"}]}), domain)
    assert r.responses == ["utter_summary_correction", "utter_goodbye"]
    assert r.message("utter_summary_correction")["item"] == "手机号"


def test_callback_time_is_read_from_normalised_text(api: FakeApi,
                                                    domain: dict[str, Any]) -> None:
    r = run(ActionRecordCallback(), tracker("明 天 上 午", "reschedule",
                                            slots={"awaiting": "callback_time"}), domain)
    # the IVR places the words (fake: Friday 10:00 Shanghai; no Saturday window before 10:00)
    assert r.message("utter_callback_recorded")["when"] == "明天上午10点"
    booked = api.call()["followups"][0]
    assert (booked["kind"], booked["when"]) == ("callback", "明天上午")


def test_callback_with_the_api_down_still_ends_politely(api_down: str,
                                                        domain: dict[str, Any]) -> None:
    r = run(ActionRecordCallback(), tracker("晚上", "reschedule",
                                            slots={"awaiting": "callback_time"}), domain)
    assert r.responses == ["utter_callback_not_recorded"]


def test_out_of_scope_twice_in_a_row_hands_over(domain: dict[str, Any]) -> None:
    events = [{"event": "user", "text": "股票"}]
    first = run(ActionOutOfScope(), tracker("今天几号", "out_of_scope", events=events,
                                            slots={"awaiting": "any_question"}), domain)
    assert first.responses == ["utter_out_of_scope"]
    second = run(ActionOutOfScope(), tracker("你吃饭了吗", "out_of_scope", events=events * 2,
                                             slots={"awaiting": "any_question",
                                                    **first.slots}), domain)
    assert second.responses == ["utter_handoff_out_of_scope"]


def test_repeat_resends_the_last_bot_turn(domain: dict[str, Any]) -> None:
    events = [{"event": "user", "text": "是"},
              {"event": "bot", "text": "请说身份证后四位",
               "data": {"custom": {"expect": "digits"}}}]
    r = run(ActionRepeatLast(), tracker("再说一遍", "repeat", events=events), domain)
    assert r.messages[0]["text"] == "请说身份证后四位"
    assert r.messages[0]["custom"] == {"expect": "digits"}
