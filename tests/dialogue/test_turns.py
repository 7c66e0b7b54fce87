"""Rasa REST channel reply list → typed BotTurn."""

from __future__ import annotations

from typing import Any

import pytest

from ivr.core.errors import DialogueError, ErrorCode
from ivr.core.types import CallOutcome, Expectation, Language, Priority
from ivr.dialogue.turns import BotTurn, Handoff, Hangup, Utterance, parse_bot_messages

SID = "CA0123456789abcdef0123456789abcdef"


def test_empty_reply_is_an_empty_turn() -> None:
    turn = parse_bot_messages([])
    assert turn == BotTurn()
    assert turn.text == ""
    assert turn.expect is None and turn.handoff is None and turn.hangup is None


def test_texts_in_order_with_recipient_id_ignored() -> None:
    payload = [
        {"recipient_id": SID, "text": "  您好,这里是数字钱包客服中心。 "},
        {"recipient_id": SID, "text": "请问是王先生吗?"},
    ]
    turn = parse_bot_messages(payload)
    assert turn.utterances == (
        Utterance("您好,这里是数字钱包客服中心。"),
        Utterance("请问是王先生吗?"),
    )
    assert all(not u.uninterruptible for u in turn.utterances)
    assert turn.text == "您好,这里是数字钱包客服中心。 请问是王先生吗?"
    assert turn.raw == tuple(payload)


def test_blank_texts_are_skipped() -> None:
    turn = parse_bot_messages([{"recipient_id": SID, "text": "   "}, {"text": ""}])
    assert turn.utterances == ()


def test_question_with_expect_payload_as_rasa_sends_it() -> None:
    # A response with both text and custom reaches the REST channel as two messages.
    turn = parse_bot_messages(
        [
            {"recipient_id": SID, "text": "Am I speaking with Mr Wang?"},
            {"recipient_id": SID, "custom": {"expect": "yes_no"}},
        ]
    )
    assert turn.utterances == (Utterance("Am I speaking with Mr Wang?"),)
    assert turn.expect is Expectation.YES_NO


@pytest.mark.parametrize("value", [e.value for e in Expectation])
def test_every_expectation_value(value: str) -> None:
    assert parse_bot_messages([{"custom": {"expect": value}}]).expect is Expectation(value)


def test_say_payload_keeps_uninterruptible_flag() -> None:
    turn = parse_bot_messages(
        [
            {"recipient_id": SID,
             "custom": {"say": "本次通话可能会被录音。", "uninterruptible": True}},
            {"recipient_id": SID, "custom": {"say": " Anything else? "}},
            {"recipient_id": SID, "text": "Plain text."},
        ]
    )
    assert turn.utterances == (
        Utterance("本次通话可能会被录音。", uninterruptible=True),
        Utterance("Anything else?", uninterruptible=False),
        Utterance("Plain text."),
    )


def test_handoff_payload() -> None:
    turn = parse_bot_messages(
        [
            {"recipient_id": SID, "text": "Connecting you now."},
            {"recipient_id": SID, "custom": {"handoff": {"reason": "agent_request",
                                                          "priority": "urgent"}}},
        ]
    )
    assert turn.handoff == Handoff("agent_request", Priority.URGENT)
    assert turn.hangup is None


def test_handoff_priority_defaults_to_normal() -> None:
    turn = parse_bot_messages([{"custom": {"handoff": {"reason": "fraud"}}}])
    assert turn.handoff == Handoff("fraud", Priority.NORMAL)


@pytest.mark.parametrize(
    ("custom", "outcome"),
    [
        ({"hangup": {"outcome": "wrong_party"}}, CallOutcome.WRONG_PARTY),
        ({"hangup": {}}, CallOutcome.COMPLETED),
        ({"hangup": True}, CallOutcome.COMPLETED),
        ({"hangup": None}, CallOutcome.COMPLETED),
    ],
)
def test_hangup_payload(custom: dict[str, Any], outcome: CallOutcome) -> None:
    assert parse_bot_messages([{"custom": custom}]).hangup == Hangup(outcome)


def test_event_payloads_are_collected_in_order() -> None:
    turn = parse_bot_messages(
        [
            {"custom": {"event": {"type": "rating", "value": 5}}},
            {"custom": {"event": "not-an-object"}},
            {"custom": {"event": {"type": "reschedule", "when": "tomorrow"}}},
        ]
    )
    assert turn.events == (
        {"type": "rating", "value": 5},
        {"type": "reschedule", "when": "tomorrow"},
    )


def test_last_expect_wins() -> None:
    turn = parse_bot_messages(
        [{"custom": {"expect": "yes_no"}}, {"text": "x"}, {"custom": {"expect": "digits"}}]
    )
    assert turn.expect is Expectation.DIGITS


def test_text_and_custom_in_one_message() -> None:
    turn = parse_bot_messages(
        [{"text": "Goodbye!", "custom": {"hangup": {"outcome": "completed"}}}]
    )
    assert turn.utterances == (Utterance("Goodbye!"),)
    assert turn.hangup == Hangup(CallOutcome.COMPLETED)


def test_non_speech_rasa_messages_are_tolerated() -> None:
    # The REST channel can also carry images/buttons; nothing to speak there.
    turn = parse_bot_messages([{"recipient_id": SID, "image": "https://x/y.png"}])
    assert turn.utterances == ()


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"text": "hi"}, "expected a JSON list"),
        ("hello", "expected a JSON list"),
        (None, "expected a JSON list"),
        (["hello"], "not an object"),
        ([{"custom": "say hi"}], "custom payload is not an object"),
        ([{"custom": ["x"]}], "custom payload is not an object"),
        ([{"custom": {"expect": "yes_or_no"}}], "unknown expectation"),
        ([{"custom": {"expect": None}}], "unknown expectation"),
        ([{"custom": {"handoff": "now"}}], "handoff needs a reason"),
        ([{"custom": {"handoff": {"priority": "high"}}}], "handoff needs a reason"),
        ([{"custom": {"handoff": {"reason": "x", "priority": "asap"}}}], "priority"),
        ([{"custom": {"hangup": {"outcome": "exploded"}}}], "unknown hangup outcome"),
        ([{"custom": {"switch_language": "fr"}}], "unknown language"),
    ],
)
def test_malformed_replies_raise_bad_response(payload: Any, detail: str) -> None:
    with pytest.raises(DialogueError) as info:
        parse_bot_messages(payload)
    assert info.value.code is ErrorCode.DIALOGUE_BAD_RESPONSE
    assert detail in str(info.value)
    assert "dialogue_bad_response" in str(info.value)


def test_switch_language_payload_is_read() -> None:
    turn = parse_bot_messages([
        {"recipient_id": SID, "custom": {"switch_language": "en"}},
        {"recipient_id": SID, "text": "Sure, let's continue in English."},
        {"recipient_id": SID, "text": "Am I speaking with Mr. Zhang?",
         "custom": {"expect": "yes_no"}},
    ])
    assert turn.language is Language.EN and turn.expect is Expectation.YES_NO
    assert [u.text for u in turn.utterances][-1] == "Am I speaking with Mr. Zhang?"
    assert parse_bot_messages([{"text": "好的。"}]).language is None


def test_long_answer_and_identity_events_are_read() -> None:
    from ivr.dialogue.turns import parse_bot_messages

    turn = parse_bot_messages([
        {"text": "请问您有什么建议?"},
        {"custom": {"expect": "open", "long_answer": True}},
        {"custom": {"event": {"identity_verified": True}}},
    ])
    assert turn.long_answer and turn.identity_verified
    plain = parse_bot_messages([{"custom": {"expect": "open"}}])
    assert not plain.long_answer and not plain.identity_verified


def test_the_questions_that_take_long_answers_say_so() -> None:
    import yaml

    from ivr.config import ROOT

    domain = yaml.safe_load((ROOT / "rasa_project" / "domain.yml").read_text(encoding="utf-8"))
    for name in ("utter_ask_feedback", "utter_ask_feedback_rephrase",
                 "utter_ask_payment_scenario", "utter_ask_payment_scenario_rephrase"):
        assert all(v["custom"].get("long_answer") is True for v in domain["responses"][name])
