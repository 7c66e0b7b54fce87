"""Validate what the action server reports about a call, and merge it into ``details``.

Accepted keys are exactly :data:`RESULT_KEYS`. Lists are merged as ordered sets (a later
report adds topics, it does not forget earlier ones); every other key replaces the stored
value. Free text is masked with ``mask_text`` and cut to a maximum length.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ivr.core.pii import mask_text

JsonDict = dict[str, Any]
OFFERS = ("accepted", "declined", "not_offered")
MAX_FEEDBACK = 1000
MAX_ITEM = 64
MAX_ITEMS = 20
MAX_REWARD_JSON = 500
LIST_KEYS = ("confirmed_fields", "corrections", "faq_topics")


class ResultError(ValueError):
    """``code`` is ``unknown_fields`` or ``invalid_field``; the message names the key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _strings(name: str) -> Callable[[object], list[str]]:
    def parse(value: object) -> list[str]:
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            raise ResultError("invalid_field", f"{name} must be a list of at most "
                              f"{MAX_ITEMS} strings")
        out: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item.strip() or len(item) > MAX_ITEM:
                raise ResultError("invalid_field", f"{name} items must be strings of "
                                  f"1..{MAX_ITEM} characters")
            text = mask_text(item.strip())
            if text not in out:
                out.append(text)
        return out

    return parse


def _rating(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ResultError("invalid_field", "rating must be a whole number 1..5")
    return value


def _feedback(value: object) -> str:
    if not isinstance(value, str):
        raise ResultError("invalid_field", "feedback must be a string")
    return mask_text(value.strip())[:MAX_FEEDBACK]


def _offer(value: object) -> str:
    if value not in OFFERS:
        raise ResultError("invalid_field", f"offer must be one of {', '.join(OFFERS)}")
    return str(value)


def _reward(value: object) -> JsonDict:
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float | bool) or v is None for v in value.values()
    ):
        raise ResultError("invalid_field", "reward must be an object of plain values")
    if len(json.dumps(value, ensure_ascii=False)) > MAX_REWARD_JSON:
        raise ResultError("invalid_field", f"reward is longer than {MAX_REWARD_JSON} chars")
    return {str(k): mask_text(v) if isinstance(v, str) else v for k, v in value.items()}


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ResultError("invalid_field", "identity_verified must be true or false")
    return value


_PARSERS: dict[str, Callable[[object], object]] = {
    **{name: _strings(name) for name in LIST_KEYS},
    "rating": _rating,
    "feedback": _feedback,
    "offer": _offer,
    "reward": _reward,
    "identity_verified": _flag,
}
RESULT_KEYS = frozenset(_PARSERS)


def validate_results(body: Mapping[str, object]) -> JsonDict:
    """The validated, masked update; raises :class:`ResultError`."""
    unknown = sorted(str(key) for key in body if key not in RESULT_KEYS)
    if unknown:
        raise ResultError("unknown_fields", f"unknown key(s): {', '.join(unknown)}")
    return {key: _PARSERS[key](value) for key, value in body.items()}


def merge_results(details: Mapping[str, Any], update: Mapping[str, Any]) -> JsonDict:
    """The keys of ``details`` to write: lists unioned with the stored ones, others replaced."""
    out = dict(update)
    for key in LIST_KEYS:
        stored = details.get(key)
        if key in out and isinstance(stored, list):
            out[key] = [*stored, *(item for item in out[key] if item not in stored)]
    return out
