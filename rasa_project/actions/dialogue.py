"""Question, rephrase and repeat actions.

Convention (see domain.yml): for every pending question `<q>` (a value of slot `awaiting`) there
are responses `utter_ask_<q>` and `utter_ask_<q>_rephrase`, both ending in an `expect` payload,
and an action `action_ask_<q>` that utters the question and sets `awaiting`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

GENERIC_REPHRASE = "utter_ask_generic_rephrase"
# Payload keys that are re-sent by "repeat"; handoff/hangup are never repeated.
REPEATABLE_CUSTOM = ("expect", "say")


class _AskAction(Action):
    """Utter `utter_ask_<question>` and remember that the bot now awaits it."""

    question = ""

    def name(self) -> str:
        return f"action_ask_{self.question}"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        dispatcher.utter_message(response=f"utter_ask_{self.question}")
        return [SlotSet("awaiting", self.question)]


class ActionAskIdentity(_AskAction):
    question = "identity"


class ActionAskAnyQuestion(_AskAction):
    question = "any_question"


def _responses(domain: dict[str, Any]) -> dict[str, Any]:
    responses = domain.get("responses")
    return responses if isinstance(responses, dict) else {}


class ActionRephrase(Action):
    """No-match: rephrase the pending question with examples; same expect payload."""

    def name(self) -> str:
        return "action_rephrase"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        awaiting = tracker.get_slot("awaiting")
        response = f"utter_ask_{awaiting}_rephrase"
        if not awaiting or response not in _responses(domain):
            response = GENERIC_REPHRASE
        dispatcher.utter_message(response=response)
        return []


def last_bot_turn(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bot messages sent between the previous user message and the current one."""
    seen_current_user = False
    turn: list[dict[str, Any]] = []
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            if seen_current_user:
                break
            seen_current_user = True
        elif kind == "bot" and seen_current_user:
            turn.append(event)
        elif kind == "session_started" and seen_current_user:
            break
    turn.reverse()
    return turn


class ActionRepeatLast(Action):
    """Re-send the previous bot turn verbatim (spoken text and its expect payload)."""

    def name(self) -> str:
        return "action_repeat_last"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        sent = False
        for event in last_bot_turn(tracker.events):
            data = event.get("data") or {}
            custom = data.get("custom")
            if not (isinstance(custom, dict) and any(k in custom for k in REPEATABLE_CUSTOM)):
                custom = None
            text = event.get("text")
            if text or custom:
                dispatcher.utter_message(text=text, json_message=custom)
                sent = True
        if not sent:
            awaiting = tracker.get_slot("awaiting")
            response = f"utter_ask_{awaiting}"
            if not awaiting or response not in _responses(domain):
                response = GENERIC_REPHRASE
            dispatcher.utter_message(response=response)
        return []
