"""Typed field access for untyped JSON wire messages; every failure is a ``WireError``.

Messages name the field and the problem, never the payload itself.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ivr.core.errors import ErrorCode, WireError

JsonObject = Mapping[str, Any]


def malformed(where: str, problem: str) -> WireError:
    return WireError(f"{where} {problem}", code=ErrorCode.WIRE_MALFORMED)


def obj(parent: JsonObject, key: str, where: str) -> JsonObject:
    value = parent.get(key)
    if value is None:
        raise malformed(where, "is missing")
    if not isinstance(value, Mapping):
        raise malformed(where, f"must be an object, got {_kind(value)}")
    return value


def opt_obj(parent: JsonObject, key: str, where: str) -> JsonObject:
    return obj(parent, key, where) if key in parent else {}


def text(parent: JsonObject, key: str, where: str, *, required: bool = True) -> str:
    value = parent.get(key)
    if value is None:
        if required:
            raise malformed(where, "is missing")
        return ""
    if not isinstance(value, str):
        raise malformed(where, f"must be a string, got {_kind(value)}")
    if required and not value:
        raise malformed(where, "is empty")
    return value


def number(parent: JsonObject, key: str, where: str, *, required: bool = True) -> int:
    """A non-negative integer sent either as a JSON number or as a decimal string."""
    value = parent.get(key)
    if value is None:
        if required:
            raise malformed(where, "is missing")
        return 0
    if isinstance(value, bool):
        raise malformed(where, "must be an integer, got boolean")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    raise malformed(where, "must be a non-negative integer")


def string_list(parent: JsonObject, key: str, where: str) -> tuple[str, ...]:
    value = parent.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise malformed(where, "must be a list of strings")
    return tuple(value)


def string_map(parent: JsonObject, key: str, where: str) -> dict[str, str]:
    value = parent.get(key, {})
    if not isinstance(value, Mapping):
        raise malformed(where, f"must be an object, got {_kind(value)}")
    for k, v in value.items():
        if not isinstance(v, str):
            raise malformed(f"{where}.{str(k)[:40]}", f"must be a string, got {_kind(v)}")
    return dict(value)


def b64(parent: JsonObject, key: str, where: str) -> bytes:
    value = text(parent, key, where, required=False)
    if key not in parent:
        raise malformed(where, "is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise malformed(where, f"is not valid base64 ({len(value)} chars)") from exc


def _kind(value: object) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
    }.get(type(value), type(value).__name__ if value is not None else "null")
