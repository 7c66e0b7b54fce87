"""The answer to a read-back of a low-confidence answer ("您是说不满意吗?")."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType

from actions import confidence as C
from actions.dialogue import handle_no_match
from actions.flow import (
    ActionFraud,
    ActionIdentityConfirmed,
    ActionRate,
    Flow,
    FlowAction,
    intent,
    user_text,
)
from ivr.text import parse_rating, parse_yes_no


def _yes(flow: Flow) -> bool | None:
    name = intent(flow.t)
    if name == "affirm":
        return True
    if name == "deny":
        return False
    return parse_yes_no(user_text(flow.t))


class ActionConfirmAnswer(FlowAction):
    """Yes → act on what was heard; no → ask the original question again. A new rating given
    instead of yes/no ("不是, 四分") is taken as the answer to the rating question."""

    action_name = "action_confirm_answer"

    async def step(self, flow: Flow, domain: dict[str, Any]) -> list[EventType]:
        pending = flow.get("pending_answer")
        if not isinstance(pending, dict):
            return await handle_no_match(flow.d, flow.t, domain, flow.events)
        kind = pending.get("kind")
        if kind == C.LOW_RATING and intent(flow.t) in ("rate", "inform_digits"):
            rating = parse_rating(user_text(flow.t))
            if rating is not None:
                flow.set("pending_answer", None)
                return await ActionRate().rate(flow, rating)
        yes = _yes(flow)
        if yes is None:
            return await handle_no_match(flow.d, flow.t, domain, flow.events)
        flow.set("pending_answer", None)
        if kind == C.IDENTITY_YES:
            if yes:
                return await ActionIdentityConfirmed().step(flow, domain)
            return flow.ask("identity")
        if kind == C.IDENTITY_NO:
            if yes:
                return await flow.wrong_party()
            return flow.ask("identity")
        if kind == C.LOW_RATING:
            if yes:
                return await ActionRate().rate(flow, int(pending.get("rating") or 2))
            return flow.ask("rating")
        if kind == C.FRAUD and yes:
            return await ActionFraud().report(flow)
        return self.ask_again(flow, pending)

    @staticmethod
    def ask_again(flow: Flow, pending: dict[str, Any]) -> list[EventType]:
        """"No" to a read-back of something said at another question: that question again,
        word for word (with its expect payload), as "repeat" would send it."""
        flow.say("utter_confirm_no")
        sent = False
        for message in pending.get("repeat") or []:
            text, custom = message.get("text"), message.get("custom")
            if text or isinstance(custom, dict):
                flow.d.utter_message(text=text, json_message=custom if isinstance(
                    custom, dict) else None)
                sent = True
        question = pending.get("question")
        question = question if isinstance(question, str) and question else "any_question"
        if not sent:
            return flow.ask(question)
        flow.set("awaiting", question)
        return flow.events
