"""action_session_start: fill call slots from the metadata the IVR sends with /call_start."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.titles import FALLBACK_TITLE, title_in

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _reward(value: Any) -> Any:
    """Kept as sent (object or text); parsed when the reward is granted."""
    if isinstance(value, dict):
        return value or None
    return _text(value)


def slots_from_metadata(metadata: Any) -> dict[str, Any]:
    """Map the IVR's call metadata to slot values (pure, unit-testable)."""
    meta = metadata if isinstance(metadata, dict) else {}
    language = _text(meta.get("language"))
    language = language.lower() if language else None
    if language not in LANGUAGES:
        # accept "zh-CN", "en-US", ...
        prefix = (language or "").split("-")[0].split("_")[0]
        language = prefix if prefix in LANGUAGES else DEFAULT_LANGUAGE
    name = _text(meta.get("customer_name"))
    # the record's title said in the call's language (王先生 in an English call: Mr. Wang);
    # without one the question still reads naturally
    title = (title_in(_text(meta.get("customer_title")) or name, language, name)
             or FALLBACK_TITLE[language])
    return {
        "language": language,
        "customer_title": title,
        "customer_name": name,
        "call_sid": _text(meta.get("call_sid")),
        "customer_id": _text(meta.get("customer_id")),
        "campaign_reward": _reward(meta.get("campaign_reward")),
    }


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        metadata = tracker.get_slot("session_started_metadata")
        events: list[EventType] = [SessionStarted()]
        # SessionStarted resets all slots; keep the raw metadata visible like Rasa's default does.
        if metadata is not None:
            events.append(SlotSet("session_started_metadata", metadata))
        events.extend(SlotSet(k, v) for k, v in slots_from_metadata(metadata).items())
        events.append(ActionExecuted("action_listen"))
        return events
