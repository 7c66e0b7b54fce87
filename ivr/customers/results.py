"""Validate what the action server reports about a call, and merge it into ``details``.

Accepted keys are exactly :data:`RESULT_KEYS`. List items are short strings or small flat
objects; lists are merged as ordered sets (a later report adds topics, it does not forget
earlier ones); every other key replaces the stored value. Free text is masked with
``mask_text`` and cut to a maximum length.
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
MAX_ITEM_JSON = 300
MAX_REWARD_JSON = 500
LIST_KEYS = ("confirmed_fields", "corrections", "faq_topics")


class ResultError(ValueError):
    """``code`` is ``unknown_fields`` or ``invalid_field``; the message names the key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _plain_object(value: object, limit: int) -> JsonDict | None:
    """``value`` masked if it is a small object of plain values, else None."""
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float | bool) or v is None for v in value.values()
    ) or len(json.dumps(value, ensure_ascii=False)) > limit:
        return None
    return {str(k): mask_text(v) if isinstance(v, str) else v for k, v in value.items()}


def _item(value: object) -> str | JsonDict | None:
    if isinstance(value, str):
        text = value.strip()
        return mask_text(text) if 0 < len(text) <= MAX_ITEM else None
    return _plain_object(value, MAX_ITEM_JSON)


def _items(name: str) -> Callable[[object], list[str | JsonDict]]:
    """A list of short strings (``"city"``) or small flat objects (``{"field": "city"}``)."""

    def parse(value: object) -> list[str | JsonDict]:
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            raise ResultError("invalid_field", f"{name} must be a list of at most "
                              f"{MAX_ITEMS} items")
        out: list[str | JsonDict] = []
        for raw in value:
            item = _item(raw)
            if item is None:
                raise ResultError("invalid_field", f"{name} items must be strings of "
                                  f"1..{MAX_ITEM} characters or small flat objects")
            if item not in out:
                out.append(item)
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
    reward = _plain_object(value, MAX_REWARD_JSON)
    if reward is None:
        raise ResultError("invalid_field", "reward must be an object of plain values "
                          f"(at most {MAX_REWARD_JSON} characters as JSON)")
    return reward


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ResultError("invalid_field", "identity_verified must be true or false")
    return value


_PARSERS: dict[str, Callable[[object], object]] = {
    **{name: _items(name) for name in LIST_KEYS},
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
