"""Generate data/rules.yml from the transition table below (run from rasa_project/):

    python3 scripts/gen_rules.py

Why generated: a rule must also say which value of `awaiting` its action leaves behind (Rasa
predicts the following action_listen only when the slot matches), so every action that may ask
one of several next questions needs one rule per possible next question. The table lists, per
pending question, which intents are answers and which `awaiting` values the action may set
(None = unchanged, e.g. a handoff, a hang-up or a no-match rephrase). Intents that are no answer
to the pending question become a no-match (action_rephrase), so every (question, intent) pair
has a rule and `rasa test core` can cover any of them.
"""

from __future__ import annotations

from pathlib import Path

FAQ = ["faq_activation", "faq_info_change", "faq_payment_failure", "faq_transactions",
       "faq_security"]
ALL_INTENTS = ["affirm", "deny", "request_agent", "goodbye", "repeat", "thanks", "out_of_scope",
               "reschedule", "complaint", "fraud", "inform_digits", "id_result", "rate",
               "inform_item",
               *FAQ, "faq_bank_card", "nlu_fallback", "opt_out", "not_available"]

CONFIRM = "confirm_answer"  # a low-confidence answer read back (actions/confidence.py)
QUESTIONS = ["identity", "callback_time", "id_check", "info_confirm", "which_item",
             "proactive_help", "any_question", "anything_else", "payment_scenario",
             "payment_retried", "rating", "feedback", "offer"]

# intent -> (actions, possible awaiting afterwards, None = unchanged); valid whatever is pending
GLOBAL: dict[str, tuple[list[str], list[str | None]]] = {
    "request_agent": (["utter_handoff_agent"], [None]),
    "complaint": (["action_complaint"], [None]),
    "fraud": (["action_fraud"], [None, CONFIRM]),  # heard unsure: "did you say ...?"
    "faq_bank_card": (["action_bank_card_change"], [None]),
    "goodbye": (["action_goodbye"], [None]),
    "repeat": (["action_repeat_last"], [None]),
    "nlu_fallback": (["action_rephrase"], [None]),
    "out_of_scope": (["action_out_of_scope"], [None]),
    "reschedule": (["action_ask_callback_time"], ["callback_time"]),
    "opt_out": (["action_opt_out"], [None]),
    # "说中文" / "English please": switch, then the pending question again in the new
    # language (two actions: only the second one's responses see the new `language` slot)
    "switch_to_zh": (["action_switch_language", "action_ask_again"], [None]),
    "switch_to_en": (["action_switch_language", "action_ask_again"], [None]),
    # sent by the IVR when no agent is there (hours, nobody logged in, waited too long)
    "agent_unavailable": (["action_agent_unavailable"], ["callback_time"]),
}

FAQ_ANSWERS = [
    (["faq_activation"], "action_faq_activation", ["anything_else", None]),
    (["faq_info_change", "inform_item"], "action_faq_info_change", ["anything_else", None]),
    (["faq_transactions"], "action_faq_transactions", ["anything_else", None]),
    (["faq_security"], "action_faq_security", ["anything_else", None]),
]
OPEN_QUESTION = FAQ_ANSWERS + [
    (["faq_payment_failure"], "action_faq_payment", ["payment_scenario", None]),
    (["deny", "thanks"], "action_ask_rating", ["rating"]),
    (["affirm"], "action_ask_go_ahead", ["any_question"]),
]
ANY_TEXT = ["affirm", "deny", "thanks", "out_of_scope", "inform_item", "inform_digits", "rate",
            *FAQ]

# pending question -> [(intents, action, possible `awaiting` afterwards)]
TABLE: dict[str, list[tuple[list[str], str, list[str | None]]]] = {
    "identity": [
        (["affirm"], "action_identity_confirmed", ["id_check", CONFIRM]),
        (["deny"], "action_identity_denied", [CONFIRM, None]),
        (["not_available"], "action_not_available", ["callback_time"]),
    ],
    # free-text answers: whatever NLU makes of them (even a low-confidence nlu_fallback with
    # words in it) is the answer; the action treats the IVR's bare /nlu_fallback as a no-match
    # and a `repeat` only as a repeat when it really asks for one ("再说一遍", "pardon")
    "callback_time": [
        ([*ANY_TEXT, "reschedule", "goodbye", "nlu_fallback", "repeat"], "action_record_callback",
         [None]),
    ],
    # the IVR checks the ID itself and sends /id_result{...}; digits that reach NLU here were
    # not taken by the IVR (action_verify_id treats them as a no-match)
    "id_check": [
        (["id_result", "inform_digits", "rate"], "action_verify_id", ["info_confirm", None]),
        (["affirm"], "action_ask_id_check", ["id_check"]),
    ],
    "info_confirm": [
        (["affirm"], "action_info_confirmed", ["proactive_help", "any_question", None]),
        (["deny"], "action_info_denied", ["which_item", "proactive_help", "any_question", None]),
        (["inform_item", "faq_info_change"], "action_record_correction",
         ["which_item", "proactive_help", "any_question", None]),
    ],
    "which_item": [
        (["inform_item"], "action_record_correction", ["proactive_help", "any_question", None]),
    ],
    "proactive_help": [
        (["affirm", "faq_payment_failure"], "action_proactive_help",
         ["payment_retried", "anything_else", "any_question", None]),
        (["deny"], "action_ask_any_question", ["any_question"]),
        *FAQ_ANSWERS,
    ],
    "any_question": OPEN_QUESTION,
    "anything_else": OPEN_QUESTION,
    "payment_scenario": [
        ([*ANY_TEXT, "nlu_fallback", "repeat"], "action_payment_advice",
         ["payment_retried", None]),
    ],
    "payment_retried": [
        (["affirm", "faq_payment_failure"], "action_payment_investigation",
         ["anything_else", None]),
        (["deny"], "action_payment_try_first", ["anything_else"]),
    ],
    "rating": [
        (["rate", "inform_digits", "deny"], "action_rate", ["feedback", CONFIRM, None]),
    ],
    "feedback": [
        (["affirm"], "action_ask_feedback_go_ahead", ["feedback"]),
        ([*(i for i in ANY_TEXT if i != "affirm"), "reschedule", "goodbye", "nlu_fallback",
          "repeat", "faq_bank_card"], "action_store_feedback", ["offer", None]),
    ],
    "offer": [
        (["affirm", "deny"], "action_offer_answer", [None]),
    ],
    # yes: act on what was heard; no: the original question again (any of them)
    CONFIRM: [
        (["affirm", "deny", "rate", "inform_digits"], "action_confirm_answer",
         [*QUESTIONS, None]),
    ],
}


def rule(name: str, steps: list[str], condition: str | None = None) -> str:
    lines = [f"  - rule: \"{name}\""]
    if condition:
        lines += ["    condition:", "      - slot_was_set:", f"          - awaiting: {condition}"]
    lines.append("    steps:")
    lines += [f"      {s}" for s in steps]
    return "\n".join(lines)


def steps_for(intent: str, actions: list[str], after: str | None) -> list[str]:
    out = [f"- intent: {intent}"] + [f"- action: {a}" for a in actions]
    if after:
        out += ["- slot_was_set:", f"    - awaiting: {after}"]
    return out


def main() -> None:
    blocks: list[str] = []
    blocks.append(rule("call start -> opening, identity question",
                       steps_for("call_start", ["utter_opening", "action_ask_identity"],
                                 "identity")))
    for intent, (actions, afters) in GLOBAL.items():
        name = f"any time: {intent} -> {' + '.join(actions)}"
        if len(afters) == 1:
            blocks.append(rule(name, steps_for(intent, actions, afters[0])))
            continue
        # An action that may set `awaiting` or leave it: Rasa's incomplete-rule check wants the
        # slot in every rule's state, so "unchanged" is one rule per pending question.
        for after in afters:
            if after is not None:
                blocks.append(rule(f"{name} -> {after}", steps_for(intent, actions, after)))
                continue
            for question in [*QUESTIONS, CONFIRM]:
                blocks.append(rule(f"{question}: {name}", steps_for(intent, actions, None),
                                   question))
    for question, answers in TABLE.items():
        handled: set[str] = set()
        for intents, action, afters in answers:
            if action.startswith("action_") and None not in afters:
                afters = [*afters, None]  # a failing action hands off and leaves it unchanged
            for intent in intents:
                handled.add(intent)
                for after in afters:
                    suffix = f" -> {after}" if after and after != question else ""
                    blocks.append(rule(f"{question}: {intent} -> {action}{suffix}",
                                       steps_for(intent, [action],
                                                 after if after != question else None),
                                       question))
        for intent in ALL_INTENTS:
            if intent in handled or intent in GLOBAL:
                continue
            blocks.append(rule(f"{question}: {intent} does not answer it -> no-match",
                               steps_for(intent, ["action_rephrase"], None), question))
    head = (
        'version: "3.1"\n\n'
        "# GENERATED by scripts/gen_rules.py from its transition table - edit the table, not\n"
        "# this file. `awaiting` (set by the actions that ask) tells which question an answer\n"
        "# belongs to, so an answer still works after a repeat or a no-match rephrase.\n\n"
        "rules:\n"
    )
    Path("data/rules.yml").write_text(head + "\n\n".join(blocks) + "\n", encoding="utf-8")
    print(f"{len(blocks)} rules")


if __name__ == "__main__":
    main()
