"""Switching the call's language on request ("说中文", "English please").

Two actions, run one after the other by a rule (data/rules.yml "any time: switch_to_*"):
`action_switch_language` sets slot `language` (and `customer_title`, said in the new
language: 王先生 → Mr. Wang) and tells the IVR (`{"switch_language": ...}`:
voice, recognizer and prompts follow from this turn); `action_ask_again` then says so and asks
the pending question again. The two are separate because Rasa renders an action's responses
with the conversation as it was *before* that action's own slot events: only the second action
sees the new language, so its responses come out in it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import confidence as C
from actions import texts as T
from actions.dialogue import GENERIC_REPHRASE, _responses, last_bot_turn
from actions.flow import Flow, FlowAction, intent
from actions.titles import title_in

TARGETS = {"switch_to_zh": "zh", "switch_to_en": "en"}
PENDING_KEYS = ("kind", "question", "repeat")


def target_language(tracker: Tracker) -> str | None:
    return TARGETS.get(intent(tracker) or "")


class ActionSwitchLanguage(Action):
    def name(self) -> str:
        return "action_switch_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        target = target_language(tracker)
        if target is None or target == tracker.get_slot("language"):
            return []  # already spoken: action_ask_again just asks again
        dispatcher.utter_message(json_message={"switch_language": target})
        events: list[EventType] = [SlotSet("language", target)]
        title = title_for(tracker, target)
        if title and title != tracker.get_slot("customer_title"):
            events.append(SlotSet("customer_title", title))
        return events


def title_for(tracker: Tracker, lang: str) -> str | None:
    """How to address the customer in ``lang``, rendered from the record's title as the call
    got it (not from the title already translated, so a switch back restores it exactly)."""
    meta = tracker.get_slot("session_started_metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = tracker.get_slot("customer_name")
    original = str(meta.get("customer_title") or "").strip() or name
    return title_in(original or tracker.get_slot("customer_title"), lang, name)


def pending_question(tracker: Tracker, domain: dict[str, Any]) -> str:
    """The response that asked the question now pending (its plain form, not a rephrase)."""
    for event in reversed(last_bot_turn(tracker.events)):
        custom = (event.get("data") or {}).get("custom")
        if not (isinstance(custom, dict) and "expect" in custom):
            continue
        asked = str((event.get("metadata") or {}).get("utter_action") or "")
        asked = asked.removesuffix("_rephrase")
        if asked in _responses(domain):
            return asked
        break
    awaiting = tracker.get_slot("awaiting")
    response = f"utter_ask_{awaiting}"
    return response if awaiting and response in _responses(domain) else GENERIC_REPHRASE


class ActionAskAgain(FlowAction):
    """The pending question again, in the call's language now; its read-backs (the masked
    details, "did you say ...?") are composed again in that language."""

    action_name = "action_ask_again"

    async def step(self, flow: Flow, domain: dict[str, Any]) -> list[EventType]:
        flow.say("utter_language_switched")
        response = pending_question(flow.t, domain)
        values: dict[str, Any] = {}
        if response == "utter_ask_info_confirm":
            values["readback"], _ = T.readback(await flow.record(), flow.lang)
        elif response == "utter_ask_confirm_answer":
            pending = flow.get("pending_answer") or {}
            kind = pending.get("kind")
            if kind:
                rest = {k: v for k, v in pending.items() if k not in PENDING_KEYS}
                title = flow.get("customer_title") or ""
                values["confirm_what"] = C.confirm_what(kind, flow.lang, title=title, **rest)
                flow.set("confirm_what", values["confirm_what"])  # for a later repeat
            else:
                response = GENERIC_REPHRASE
        flow.say(response, **values)
        return flow.events
