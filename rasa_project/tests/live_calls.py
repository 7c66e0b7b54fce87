"""Drive scripted calls through a running Rasa (the IVR's channel) and print the transcripts.

Needs: the fake API (tests/fake_ivr_api.py), the action server (`python -m ivr_rasa.serve
actions`) with IVR_API_URL pointing at it, and `python -m ivr_rasa.serve server --enable-api
...` with the model under test, both with the same IVR_RASA_TOKEN / IVR_ACTIONS_TOKEN in the
environment as this script. Stdlib only:

    python3 tests/live_calls.py --rasa http://127.0.0.1:5105 --api http://127.0.0.1:8089 [name ...]

Digits said at the ID question stand for what the IVR would send instead: the step's check
says the verdict (expect:yes_no = verified, expect:digits = mismatch, handoff:identity_failed =
locked), sent as /id_result{...}; Rasa never sees ID digits.

Each scenario lists (message, check) pairs; the check names what the last payload of the
reply must contain (expect:<kind>, handoff:<reason>, hangup:<outcome>) or None. Exit status 1
if any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.request
from typing import Any

Step = tuple[str, str | None]

SCENARIOS: dict[str, tuple[dict[str, Any], list[Step]]] = {
    "zh_happy_proactive_offer_reward": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生",
         "campaign_reward": "points:50"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("一 二 三 四", "expect:yes_no"), ("对", "expect:yes_no"),
         ("好的", "expect:yes_no"), ("不是", "expect:open"), ("没有了", "expect:rating"),
         ("五 分", "expect:open"), ("希望到账通知能再快一点", "expect:yes_no"),
         ("好的", "hangup:completed")]),
    "en_happy_faq_offer": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("five six seven eight", "expect:yes_no"), ("correct", "expect:open"),
         ("transactions history where", "expect:open"), ("nothing else", "expect:rating"),
         ("four", "expect:open"), ("the app could load faster", "expect:yes_no"),
         ("yes", "hangup:completed")]),
    "zh_wrong_party": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生"},
        [("/call_start", "expect:yes_no"), ("打错了", "hangup:wrong_party")]),
    "en_wrong_party": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("no", "hangup:wrong_party")]),
    "zh_reschedule": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生"},
        [("/call_start", "expect:yes_no"), ("不方便", "expect:open"),
         ("晚点再打", "hangup:reschedule")]),
    "en_reschedule": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("busy", "expect:open"),
         ("later", "hangup:reschedule")]),
    "zh_identity_failed": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("五 六 七 八", "expect:digits"), ("九 九 九 九", "handoff:identity_failed")]),
    "zh_correction_phone": (
        {"customer_id": "C003", "language": "zh", "customer_title": "李女士"},
        [("/call_start", "expect:yes_no"), ("对", "expect:digits"),
         ("二 四 六 八", "expect:yes_no"), ("不对", "expect:open"),
         ("手机号", "expect:open"), ("没有了", "expect:rating"), ("四 分", "expect:open"),
         ("没有了", "hangup:completed")]),
    "en_bank_card_change": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("five six seven eight", "expect:yes_no"), ("no", "expect:open"),
         ("bank card", "handoff:bank_card_change")]),
    "zh_all_faq_and_repeated_payment_failure": (
        {"customer_id": "C003", "language": "zh", "customer_title": "李女士"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("二 四 六 八", "expect:yes_no"), ("对", "expect:open"),
         ("没有激活 怎么办", "expect:open"), ("修改信息", "expect:open"),
         ("交易记录 在哪里", "expect:open"), ("账户安全", "expect:open"),
         ("支付失败 怎么办", "expect:open"), ("银行卡", "expect:yes_no"),
         ("是", "expect:open"), ("没有了", "expect:rating"), ("五 分", "expect:open"),
         ("没有了", "hangup:completed")]),
    "en_all_faq_refund_long_review": (
        {"customer_id": "C004", "language": "en", "customer_title": "Mr. Wang"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("nine zero nine zero", "expect:yes_no"), ("yes", "expect:yes_no"),
         ("sure", "expect:open"), ("account not activated", "expect:open"),
         ("change information", "expect:open"), ("security", "expect:open"),
         ("payment failed", "expect:open"), ("bank card", "expect:yes_no"),
         ("yes", "expect:open"), ("nothing else", "expect:rating"),
         ("three", "expect:open"), ("nothing", "hangup:completed")]),
    "en_proactive_wrong_password": (
        {"customer_id": "C005", "language": "en", "customer_title": "Mr. Liu"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("one three five seven", "expect:yes_no"), ("correct", "expect:yes_no"),
         ("yes", "expect:yes_no"), ("yes", "expect:open"), ("goodbye", "hangup:completed")]),
    "zh_fraud_at_opening": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生"},
        [("/call_start", "expect:yes_no"), ("被盗", "handoff:fraud_suspected")]),
    "en_fraud_in_questions": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("five six seven eight", "expect:yes_no"), ("correct", "expect:open"),
         ("stolen", "handoff:fraud_suspected")]),
    "zh_low_rating": (
        {"customer_id": "C003", "language": "zh", "customer_title": "李女士"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("二 四 六 八", "expect:yes_no"), ("对", "expect:open"), ("没有了", "expect:rating"),
         ("一 分", "handoff:low_rating")]),
    "en_low_rating_keypad": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("five six seven eight", "expect:yes_no"), ("yes", "expect:open"),
         ("nothing else", "expect:rating"), ('/rate{"rating":2}', "handoff:low_rating")]),
    "zh_agent_request": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生"},
        [("/call_start", "expect:yes_no"), ("转人工", "handoff:agent_request")]),
    "en_agent_keypad_0": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("/request_agent", "handoff:agent_request")]),
    "zh_complaint": (
        {"customer_id": "C003", "language": "zh", "customer_title": "李女士"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("二 四 六 八", "expect:yes_no"), ("对", "expect:open"),
         ("投诉", "handoff:complaint")]),
    "en_complaint": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("complaint", "handoff:complaint")]),
    "zh_no_match_twice": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生"},
        [("/call_start", "expect:yes_no"), ("/nlu_fallback", "expect:yes_no"),
         ("/nlu_fallback", "handoff:no_match")]),
    "en_no_match_then_answer": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("/nlu_fallback", "expect:digits"), ("five six seven eight", "expect:yes_no")]),
    "zh_out_of_scope_insist": (
        {"customer_id": "C003", "language": "zh", "customer_title": "李女士"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("二 四 六 八", "expect:yes_no"), ("对", "expect:open"),
         ("帮我订个机票", "expect:open"), ("我就要订机票", "handoff:out_of_scope_insist")]),
    "zh_keypad_only": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生",
         "campaign_reward": '{"kind": "coupon", "amount": 10}'},
        [("/call_start", "expect:yes_no"), ("/affirm", "expect:digits"),
         ('/inform_digits{"digits":"1234"}', "expect:yes_no"), ("/affirm", "expect:yes_no"),
         ("/deny", "expect:open"), ("/deny", "expect:rating"),
         ('/rate{"rating":5}', "expect:open"), ("/deny", "expect:yes_no"),
         ("/deny", "hangup:completed")]),
    "zh_repeat": (
        {"customer_id": "C001", "language": "zh", "customer_title": "张先生"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("再说一遍", "expect:digits"), ("一 二 三 四", "expect:yes_no")]),
    "en_declines_rating": (
        {"customer_id": "C002", "language": "en", "customer_title": "Ms. Chen"},
        [("/call_start", "expect:yes_no"), ("yes", "expect:digits"),
         ("five six seven eight", "expect:yes_no"), ("yes", "expect:open"),
         ("nothing else", "expect:rating"), ("no", "expect:open"),
         ("nothing", "hangup:completed")]),
    "zh_info_no_problem_and_faq_bank_card": (
        {"customer_id": "C003", "language": "zh", "customer_title": "李女士"},
        [("/call_start", "expect:yes_no"), ("是", "expect:digits"),
         ("二 四 六 八", "expect:yes_no"), ("没有问题", "expect:open"),
         ("换 银行卡", "handoff:bank_card_change")]),
    "zh_api_error": (
        {"customer_id": "C500", "language": "zh", "customer_title": "王先生"},
        [("/call_start", "expect:yes_no"), ("是", "handoff:system_error")]),
}


def post(url: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          "X-IVR-Rasa-Token": os.environ.get("IVR_RASA_TOKEN", "")})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def show(item: dict[str, Any]) -> str:
    if "text" in item:
        return item["text"]
    return json.dumps(item.get("custom"), ensure_ascii=False)


def check(reply: list[dict[str, Any]], expected: str | None) -> bool:
    if expected is None:
        return True
    kind, _, value = expected.partition(":")
    customs = [m.get("custom") or {} for m in reply if "custom" in m]
    if kind == "expect":
        return bool(reply) and (reply[-1].get("custom") or {}).get("expect") == value
    if kind == "handoff":
        return any((c.get("handoff") or {}).get("reason") == value for c in customs)
    if kind == "hangup":
        return any((c.get("hangup") or {}).get("outcome") == value for c in customs)
    return False


DIGITS = re.compile(r"^[\s0-9零一二三四五六七八九]+$|^(?:\s*(?:zero|one|two|three|four|five|six|seven|eight|nine))+\s*$")
VERDICT = {"expect:yes_no": "verified", "expect:digits": "mismatch",
           "handoff:identity_failed": "locked"}


def ivr_message(message: str, expected: str | None, awaiting_id: bool) -> str:
    """What the IVR sends for this step (digits at the ID question become its verdict)."""
    if awaiting_id and DIGITS.match(message) and expected in VERDICT:
        return "/id_result" + json.dumps({"result": VERDICT[expected], "attempts_left": 1})
    return message


def run(name: str, rasa: str, api: str | None) -> bool:
    meta, steps = SCENARIOS[name]
    sid = f"{name}-{int(time.time() * 1000)}"
    metadata = {**meta, "call_sid": sid}
    ok = True
    print(f"=== {name} ({meta['customer_id']}, {meta['language']})")
    awaiting_id = False
    for message, expected in steps:
        sent = ivr_message(message, expected, awaiting_id)
        reply = post(f"{rasa}/webhooks/ivr/webhook",
                     {"sender": sid, "message": sent, "metadata": metadata})
        awaiting_id = check(reply, "expect:digits")
        good = check(reply, expected)
        ok &= good
        print(f"  > {message}")
        for item in reply:
            print(f"    < {show(item)}")
        if not good:
            print(f"    !! expected {expected}")
    if api:
        stored = get(f"{api}/_calls/{sid}")
        print(f"  API followups={json.dumps(stored.get('followups'), ensure_ascii=False)}")
        print(f"  API results={json.dumps(stored.get('results'), ensure_ascii=False)}")
    print(f"  -> {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rasa", default="http://127.0.0.1:5105")
    parser.add_argument("--api", default="http://127.0.0.1:8089")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    names = args.names or list(SCENARIOS)
    results = {name: run(name, args.rasa.rstrip("/"), args.api.rstrip("/")) for name in names}
    failed = [n for n, ok in results.items() if not ok]
    print(f"\n{len(results) - len(failed)}/{len(results)} scenarios passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
