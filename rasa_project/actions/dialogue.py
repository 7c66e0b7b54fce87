"""Question, rephrase and repeat actions.

Convention (see domain.yml): for every pending question `<q>` (a value of slot `awaiting`) there
are responses `utter_ask_<q>` and `utter_ask_<q>_rephrase`, both ending in an `expect` payload,
and an action `action_ask_<q>` that utters the question and sets `awaiting`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
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


class ActionAskIdCheck(_AskAction):
    question = "id_check"


class ActionAskWhichItem(_AskAction):
    question = "which_item"


class ActionAskRating(_AskAction):
    question = "rating"


class ActionAskCallbackTime(_AskAction):
    question = "callback_time"


def _responses(domain: dict[str, Any]) -> dict[str, Any]:
    responses = domain.get("responses")
    return responses if isinstance(responses, dict) else {}


NO_MATCH_EVENT = {"event": {"no_match": True}}
NO_MATCH_LIMIT = 2  # the second no-match in a row at the same question escalates


def user_turns(tracker: Tracker) -> int:
    return sum(1 for e in tracker.events if e.get("event") == "user")


async def handle_no_match(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    events: list[EventType] | None = None,
) -> list[EventType]:
    """Treat this turn as a no-match: tell the IVR (event), then rephrase the pending
    question with examples and a keypad hint; the second no-match in a row at the same
    question hands over with reason `no_match`."""
    out = list(events or [])
    dispatcher.utter_message(json_message=NO_MATCH_EVENT)
    turn = user_turns(tracker)
    awaiting = tracker.get_slot("awaiting")
    previous = tracker.get_slot("no_match_turn")
    same_question = tracker.get_slot("no_match_question") == awaiting
    streak = (
        int(tracker.get_slot("no_match_streak") or 0) + 1
        if previous is not None and int(previous) == turn - 1 and same_question
        else 1
    )
    out += [
        SlotSet("no_match_turn", turn),
        SlotSet("no_match_streak", streak),
        SlotSet("no_match_question", awaiting),
    ]
    if streak >= NO_MATCH_LIMIT:
        dispatcher.utter_message(response="utter_handoff_no_match")
        return out
    response = f"utter_ask_{awaiting}_rephrase"
    if not awaiting or response not in _responses(domain):
        response = GENERIC_REPHRASE
    dispatcher.utter_message(response=response)
    return out


class ActionRephrase(Action):
    """No-match (the IVR's /nlu_fallback, low NLU confidence, or an answer that does not fit
    the pending question). Also Rasa's core fallback, hence the explicit listen."""

    def name(self) -> str:
        return "action_rephrase"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        events = await handle_no_match(dispatcher, tracker, domain)
        return [*events, FollowupAction("action_listen")]


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
