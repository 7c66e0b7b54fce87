"""Low-confidence answers that matter are confirmed before the bot acts on them.

The IVR sends the recognizer's mean word confidence as message metadata ``asr_confidence``
(0..1, as a JSON number in a string; absent for keypad input and typed text). Below
``IVR_CONFIRM_BELOW`` (action server environment, default 0.6) an identity yes/no, a low rating (1-2) or a fraud report is read back
as a yes/no question (`awaiting: confirm_answer`) instead of acted on. An answer to that
question is never confirmed again.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa_sdk import Tracker

log = logging.getLogger(__name__)

CONFIRM_BELOW_ENV = "IVR_CONFIRM_BELOW"
DEFAULT_CONFIRM_BELOW = 0.6
CONFIRM_QUESTION = "confirm_answer"

IDENTITY_YES = "identity_yes"
IDENTITY_NO = "identity_no"
LOW_RATING = "low_rating"
FRAUD = "fraud"

# What the bot heard, read back in "您是说{confirm_what}吗?" / "Did you say {confirm_what}?"
CONFIRM_WHAT = {
    IDENTITY_YES: ("您就是{title}本人", "you are {title}"),
    IDENTITY_NO: ("您不是{title}", "you are not {title}"),
    LOW_RATING: ("不满意,打 {rating} 分", "you were not satisfied, {rating} out of 5"),
    FRAUD: ("您的账户可能被盗用,或者有您不认识的交易",
            "your account may have been misused, or there is a transaction you don't recognise"),
}


def confirm_below() -> float:
    raw = os.environ.get(CONFIRM_BELOW_ENV, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_CONFIRM_BELOW
    except ValueError:
        log.warning("%s=%r is not a number; using %s", CONFIRM_BELOW_ENV, raw,
                    DEFAULT_CONFIRM_BELOW)
        return DEFAULT_CONFIRM_BELOW
    return min(max(value, 0.0), 1.0)


def asr_confidence(tracker: Tracker) -> float | None:
    metadata = (tracker.latest_message or {}).get("metadata")
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("asr_confidence")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:  # the IVR's metadata values are strings ("0.42"); a number is accepted too
        number = float(value)
    except ValueError:
        return None
    return number if 0.0 <= number <= 1.0 else None


def unsure(tracker: Tracker) -> bool:
    """Heard with a confidence below the threshold, and not already an answer to a read-back."""
    confidence = asr_confidence(tracker)
    return (confidence is not None and confidence < confirm_below()
            and tracker.get_slot("awaiting") != CONFIRM_QUESTION)


def confirm_what(kind: str, lang: str, **values: Any) -> str:
    zh, en = CONFIRM_WHAT[kind]
    return (zh if lang == "zh" else en).format(**values)
