"""Small value types shared by every layer (no I/O)."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """Languages the bot speaks. Values are the short codes used on the wire and in config."""

    ZH = "zh"
    EN = "en"

    @property
    def bcp47(self) -> str:
        return {"zh": "zh-CN", "en": "en-US"}[self.value]


class Expectation(StrEnum):
    """What the dialogue expects from the caller's next turn; selects the ASR grammar."""

    YES_NO = "yes_no"
    DIGITS = "digits"
    RATING = "rating"
    OPEN = "open"


class CallOutcome(StrEnum):
    COMPLETED = "completed"
    ESCALATED = "escalated"
    WRONG_PARTY = "wrong_party"  # the callee is not the customer (the phone is flagged)
    NOT_AVAILABLE = "not_available"  # someone else answered; the customer is not there
    RESCHEDULE = "reschedule"
    ENDED_EARLY = "ended_early"  # the callee said goodbye at the opening
    NO_ANSWER = "no_answer"
    ABANDONED = "abandoned"
    FAILED = "failed"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"
