"""Session start, identity, the ID check and the read-back of low-confidence answers."""

from __future__ import annotations

from typing import Any

import pytest
from actions import confidence as C
from actions.confirm import ActionConfirmAnswer
from actions.flow import ActionIdentityConfirmed, ActionIdentityDenied, ActionVerifyId
from actions.session import ActionSessionStart, slots_from_metadata
from conftest import SID, FakeApi, run, tracker


def test_session_start_copies_call_metadata(domain: dict[str, Any]) -> None:
    meta = {"language": "en-US", "call_sid": SID, "customer_id": "C002",
            "customer_name": "Emily Chen", "customer_title": "Ms. Chen"}
    t = tracker(slots={"session_started_metadata": meta})
    r = run(ActionSessionStart(), t, domain)
    assert r.events[0]["event"] == "session_started"
    assert r.slots["language"] == "en" and r.slots["customer_title"] == "Ms. Chen"
    assert (r.events[-1]["event"], r.events[-1]["name"]) == ("action", "action_listen")


@pytest.mark.parametrize(("meta", "lang", "title"), [
    ({}, "zh", "申请人本人"), ({"language": "fr"}, "zh", "申请人本人"),
    ({"language": "en", "customer_name": "Wang Lei"}, "en", "Wang Lei"),
])
def test_slots_from_metadata_fallbacks(meta: dict[str, Any], lang: str, title: str) -> None:
    slots = slots_from_metadata(meta)
    assert slots["language"] == lang and slots["customer_title"] == title


@pytest.mark.parametrize("confidence", [None, 0.93, 0.6])
def test_identity_yes_heard_well_or_keyed_goes_on(api: FakeApi, domain: dict[str, Any],
                                                  confidence: float | None) -> None:
    r = run(ActionIdentityConfirmed(), tracker("是的", "affirm", confidence=confidence,
                                               slots={"awaiting": "identity"}), domain)
    assert r.responses == ["utter_identity_confirmed", "utter_privacy_notice",
                           "utter_ask_id_check"]
    assert r.slots["awaiting"] == "id_check"


def test_identity_yes_heard_unsure_is_read_back(domain: dict[str, Any]) -> None:
    r = run(ActionIdentityConfirmed(), tracker("是", "affirm", confidence=0.41,
                                               slots={"awaiting": "identity"}), domain)
    assert r.responses == ["utter_ask_confirm_answer"]
    assert r.slots["awaiting"] == "confirm_answer"
    assert r.slots["confirm_what"] == "您就是张先生本人"
    assert r.slots["pending_answer"]["kind"] == C.IDENTITY_YES


def test_identity_no_heard_well_hangs_up_as_wrong_party(domain: dict[str, Any]) -> None:
    r = run(ActionIdentityDenied(), tracker("不是", "deny", confidence=0.9,
                                            slots={"awaiting": "identity"}), domain)
    assert r.responses == ["utter_wrong_party"]
    assert "awaiting" not in r.slots


def test_identity_no_heard_unsure_is_confirmed_before_hanging_up(
        domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    t = tracker("no", "deny", confidence=0.75,
                slots={"awaiting": "identity", "language": "en", "customer_title": "Mr. Wang"})
    monkeypatch.setenv(C.CONFIRM_BELOW_ENV, "0.8")
    r = run(ActionIdentityDenied(), t, domain)
    assert r.responses == ["utter_ask_confirm_answer"]
    assert r.slots["confirm_what"] == "you are not Mr. Wang"
    monkeypatch.setenv(C.CONFIRM_BELOW_ENV, "0.7")
    assert run(ActionIdentityDenied(), t, domain).responses == ["utter_wrong_party"]


def _pending(kind: str, **extra: Any) -> dict[str, Any]:
    return {"awaiting": "confirm_answer",
            "pending_answer": {"kind": kind, "question": extra.pop("question", "identity"),
                               "repeat": extra.pop("repeat", []), **extra}}


def test_confirmed_wrong_party_hangs_up(domain: dict[str, Any]) -> None:
    r = run(ActionConfirmAnswer(), tracker("对", "affirm", confidence=0.3,
                                           slots=_pending(C.IDENTITY_NO)), domain)
    assert r.responses == ["utter_wrong_party"]
    assert r.slots["pending_answer"] is None


def test_denied_read_back_asks_identity_again(domain: dict[str, Any]) -> None:
    r = run(ActionConfirmAnswer(), tracker("不是", "deny", slots=_pending(C.IDENTITY_YES)),
            domain)
    assert r.responses == ["utter_ask_identity"] and r.slots["awaiting"] == "identity"


def test_confirmed_identity_goes_on_even_if_heard_unsure_again(api: FakeApi,
                                                               domain: dict[str, Any]) -> None:
    r = run(ActionConfirmAnswer(), tracker("是", "affirm", confidence=0.2,
                                           slots=_pending(C.IDENTITY_YES)), domain)
    assert r.slots["awaiting"] == "id_check"


def test_read_back_answer_that_is_no_yes_or_no_is_a_no_match(domain: dict[str, Any]) -> None:
    r = run(ActionConfirmAnswer(), tracker("香蕉", "out_of_scope",
                                           slots=_pending(C.IDENTITY_YES)), domain)
    assert {"event": {"no_match": True}} in r.customs
    assert r.responses == ["utter_ask_generic_rephrase"] or \
        r.responses == ["utter_ask_confirm_answer_rephrase"]


def _id_result(result: str, **slots: Any) -> Any:
    """What the IVR sends after checking the ID answer itself (the digits never reach Rasa)."""
    return tracker("/id_result", "id_result",
                   entities=[{"entity": "result", "value": result},
                             {"entity": "attempts_left", "value": 1}],
                   slots={"awaiting": "id_check", **slots})


def test_id_verified_by_the_ivr_reads_back(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionVerifyId(), _id_result("verified"), domain)
    assert r.responses == ["utter_id_verified", "utter_pre_review_passed",
                           "utter_ask_info_confirm"]
    readback = r.message("utter_ask_info_confirm")["readback"]
    assert "1 3 8" in readback and "5 6 7 8" in readback and "上海" in readback
    assert r.slots["awaiting"] == "info_confirm" and r.slots["read_fields"] == [
        "name", "phone", "card", "city"]
    assert api.call()["results"]["identity_verified"] is True


def test_id_mismatch_asks_again_and_locked_hands_over(api: FakeApi,
                                                      domain: dict[str, Any]) -> None:
    first = run(ActionVerifyId(), _id_result("mismatch"), domain)
    assert first.responses == ["utter_id_mismatch_retry"]
    assert first.slots["awaiting"] == "id_check"
    second = run(ActionVerifyId(), _id_result("locked"), domain)
    assert second.responses == ["utter_handoff_identity_failed"]
    assert api.call()["results"]["identity_verified"] is False


@pytest.mark.parametrize(("text", "intent", "entities"), [
    ("一般", "rate", []), ("1234", "inform_digits", []),
    ("/id_result", "id_result", [{"entity": "result", "value": "incomplete"}]),
])
def test_id_check_without_a_verdict_is_a_no_match(api: FakeApi, domain: dict[str, Any],
                                                  text: str, intent: str,
                                                  entities: list[dict[str, Any]]) -> None:
    r = run(ActionVerifyId(), tracker(text, intent, entities=entities,
                                      slots={"awaiting": "id_check"}), domain)
    assert {"event": {"no_match": True}} in r.customs
    assert api.call()["results"] == {}


def test_id_check_with_the_api_down_apologises_and_hands_over(
        api_down: str, domain: dict[str, Any]) -> None:
    r = run(ActionVerifyId(), _id_result("verified"), domain)
    assert r.responses == ["utter_handoff_system_error"]
    assert "awaiting" not in r.slots


def test_id_check_with_the_api_failing_500(api: FakeApi, domain: dict[str, Any]) -> None:
    r = run(ActionVerifyId(), _id_result("verified", customer_id="C500"), domain)
    assert r.responses == ["utter_handoff_system_error"]


@pytest.mark.parametrize(("raw", "expected"), [("", 0.6), ("0.8", 0.8), ("abc", 0.6),
                                               ("7", 1.0), ("-1", 0.0)])
def test_confirm_threshold_from_the_environment(monkeypatch: pytest.MonkeyPatch, raw: str,
                                                expected: float) -> None:
    monkeypatch.setenv(C.CONFIRM_BELOW_ENV, raw)
    assert C.confirm_below() == expected


@pytest.mark.parametrize(("value", "expected"), [("0.42", 0.42), (0.42, 0.42), ("1", 1.0),
                                                 ("x", None), (True, None), ("7", None),
                                                 (None, None)])
def test_asr_confidence_as_the_ivr_sends_it(value: Any, expected: float | None) -> None:
    t = tracker("是", "affirm")
    t.latest_message["metadata"] = {"asr_confidence": value}
    assert C.asr_confidence(t) == expected
