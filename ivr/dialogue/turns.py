"""Typed bot turns, converted at the edge from the Rasa REST channel's untyped reply list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivr.core.errors import DialogueError, ErrorCode
from ivr.core.types import CallOutcome, Expectation, Language, Priority


@dataclass(frozen=True, slots=True)
class Utterance:
    text: str
    uninterruptible: bool = False


@dataclass(frozen=True, slots=True)
class Handoff:
    reason: str
    priority: Priority = Priority.NORMAL


@dataclass(frozen=True, slots=True)
class Hangup:
    outcome: CallOutcome = CallOutcome.COMPLETED


@dataclass(frozen=True, slots=True)
class BotTurn:
    utterances: tuple[Utterance, ...] = ()
    expect: Expectation | None = None
    handoff: Handoff | None = None
    hangup: Hangup | None = None
    events: tuple[dict[str, Any], ...] = ()
    raw: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    # The expected answer may be long (feedback, describing a problem): allow longer pauses.
    long_answer: bool = False
    # The caller asked for the other language: speak and listen in it from this turn on.
    language: Language | None = None

    @property
    def text(self) -> str:
        return " ".join(u.text for u in self.utterances)

    @property
    def identity_verified(self) -> bool:
        """The dialogue reports the caller's identity as verified in this turn."""
        return any(e.get("identity_verified") is True for e in self.events)


def _bad(detail: str) -> DialogueError:
    return DialogueError(f"unexpected Rasa reply: {detail}", code=ErrorCode.DIALOGUE_BAD_RESPONSE)


def parse_bot_messages(payload: Any) -> BotTurn:
    """Turn the REST channel's list of ``{"text"|"custom": ...}`` messages into a BotTurn."""
    if not isinstance(payload, list):
        raise _bad(f"expected a JSON list, got {type(payload).__name__}")
    utterances: list[Utterance] = []
    events: list[dict[str, Any]] = []
    expect: Expectation | None = None
    handoff: Handoff | None = None
    hangup: Hangup | None = None
    long_answer = False
    language: Language | None = None
    for message in payload:
        if not isinstance(message, dict):
            raise _bad("message is not an object")
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            utterances.append(Utterance(text.strip()))
        custom = message.get("custom")
        if custom is None:
            continue
        if not isinstance(custom, dict):
            raise _bad("custom payload is not an object")
        if isinstance(custom.get("say"), str) and custom["say"].strip():
            utterances.append(Utterance(custom["say"].strip(), bool(custom.get("uninterruptible"))))
        if "expect" in custom:
            try:
                expect = Expectation(custom["expect"])
            except ValueError as exc:
                raise _bad(f"unknown expectation {custom['expect']!r}") from exc
            long_answer = custom.get("long_answer") is True
        if "handoff" in custom:
            handoff = _handoff(custom["handoff"])
        if "hangup" in custom:
            hangup = _hangup(custom["hangup"])
        if isinstance(custom.get("event"), dict):
            events.append(custom["event"])
        if "switch_language" in custom:
            try:
                language = Language(custom["switch_language"])
            except ValueError as exc:
                raise _bad(f"unknown language {custom['switch_language']!r}") from exc
    return BotTurn(tuple(utterances), expect, handoff, hangup, tuple(events), tuple(payload),
                   long_answer, language)


def _handoff(value: Any) -> Handoff:
    if not isinstance(value, dict) or not isinstance(value.get("reason"), str):
        raise _bad("handoff needs a reason")
    try:
        return Handoff(value["reason"], Priority(value.get("priority", "normal")))
    except ValueError as exc:
        raise _bad(f"unknown handoff priority {value.get('priority')!r}") from exc


def _hangup(value: Any) -> Hangup:
    if not isinstance(value, dict):
        return Hangup()
    try:
        return Hangup(CallOutcome(value.get("outcome", "completed")))
    except ValueError as exc:
        raise _bad(f"unknown hangup outcome {value.get('outcome')!r}") from exc
