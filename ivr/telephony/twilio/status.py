"""Twilio's call status words (``CallStatus``, ``AnsweredBy``) in provider-neutral terms."""

from __future__ import annotations

from typing import Final

from ivr.telephony.provider import AnsweredBy, CallProgress

PROGRESS: Final[dict[str, CallProgress]] = {
    "queued": CallProgress.QUEUED,
    "initiated": CallProgress.QUEUED,
    "ringing": CallProgress.RINGING,
    "in-progress": CallProgress.ANSWERED,
    "answered": CallProgress.ANSWERED,
    "completed": CallProgress.COMPLETED,
    "busy": CallProgress.BUSY,
    "no-answer": CallProgress.NO_ANSWER,
    "failed": CallProgress.FAILED,
    "canceled": CallProgress.CANCELED,
}
# AMD results that mean an answering machine (or a fax).
_MACHINE: Final = frozenset({"machine_start", "machine_end_beep", "machine_end_silence",
                             "machine_end_other", "fax"})


def progress(call_status: str) -> CallProgress | None:
    return PROGRESS.get(call_status)


def answered_by(value: str | None) -> AnsweredBy | None:
    if not value:
        return None
    if value == "human":
        return AnsweredBy.HUMAN
    return AnsweredBy.MACHINE if value in _MACHINE else AnsweredBy.UNKNOWN
