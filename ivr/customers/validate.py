"""Turn one untyped row (a CSV row of strings, or a JSON object) into a ``Customer``.

Every problem raises :class:`RowError` with a short reason that never echoes a phone or ID
number unmasked. CSV cells are strings: an empty cell means "not given" (the default), lists
are JSON arrays or ``;``-separated, booleans are true/false/yes/no/1/0.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.core.pii import mask_text
from ivr.core.types import Language
from ivr.customers.model import (
    CUSTOMER_FIELDS,
    DEFAULT_TIMEZONE,
    TRANSACTION_FIELDS,
    ActivationStatus,
    ApplicationStatus,
    Channel,
    Customer,
    Transaction,
    TransactionKind,
    TransactionStatus,
)

E = TypeVar("E", bound=StrEnum)

REQUIRED = ("customer_id", "name", "phone")
MAX_TRANSACTIONS = 200
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_PHONE_NOISE = re.compile(r"[\s\-().]")
_CN_MOBILE = re.compile(r"\+861[3-9]")
_E164_HINT = "expected E.164: + country code and number, e.g. +86 then 11 digits"
_ID_LAST4 = re.compile(r"[0-9]{3}[0-9X]")
_CARD_LAST4 = re.compile(r"[0-9]{4}")
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,39}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


class RowError(ValueError):
    """One row (or one value in it) is invalid; ``str(err)`` is the reason."""


def normalize_phone(value: str) -> str:
    """``+86 138-1234-5678`` / ``0086...`` -> ``+8613812345678`` (not validated)."""
    compact = _PHONE_NOISE.sub("", value.strip())
    return "+" + compact[2:] if compact.startswith("00") else compact


def is_e164(value: str) -> bool:
    """E.164 shape; Chinese mobile numbers (+86 13x..19x) must have 11 digits."""
    if _E164.fullmatch(value) is None:
        return False
    return not (_CN_MOBILE.match(value) and len(value) != 14)


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise RowError(f"{name} must be text")
    text = value.strip()
    if not text or len(text) > limit:
        raise RowError(f"{name} must be 1..{limit} characters")
    return text


def _enum(kind: type[E], name: str) -> Callable[[object], E]:
    def parse(value: object) -> E:
        text = value.strip().lower() if isinstance(value, str) else None
        try:
            if text is None:
                raise ValueError(name)
            return kind(text)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise RowError(f"bad {name} {str(value)[:20]!r} (expected {allowed})") from None

    return parse


def _bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise RowError(f"{name} must be true or false")


def _int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RowError(f"{name} must be a whole number {low}..{high}")
    return value


def _list(name: str, value: object) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as err:
                raise RowError(f"{name}: bad JSON list ({err.msg})") from None
        else:
            value = [part.strip() for part in text.split(";") if part.strip()]
    if not isinstance(value, list):
        raise RowError(f"{name} must be a list")
    return value


def _phone(value: object) -> str:
    if not isinstance(value, str):
        raise RowError(f"bad phone: {_E164_HINT}")
    phone = normalize_phone(value)
    if not is_e164(phone):
        raise RowError(f"bad phone {mask_text(value.strip())[:24]!r}: {_E164_HINT}")
    return phone


def _id_last4(value: object) -> str:
    text = str(value).strip().upper() if isinstance(value, str | int) else ""
    if len(text) != 4:
        raise RowError("id_last4 must be exactly 4 characters")
    if not _ID_LAST4.fullmatch(text):
        raise RowError("id_last4 must be 4 digits, the last one may be X")
    return text


def _card_last4(value: object) -> str:
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not _CARD_LAST4.fullmatch(text):
        raise RowError("card_last4 must be exactly 4 digits")
    return text


def _timezone(value: object) -> str:
    name = _text("timezone", value, 64)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RowError(f"unknown timezone {name!r}") from None
    return name


_RELATIVE = re.compile(r"^now(?:-(\d+)([dhm]))?$")


def parse_time(name: str, value: object, zone: str = DEFAULT_TIMEZONE) -> datetime:
    """ISO-8601 text (or a datetime) to UTC; a time without offset is in ``zone``.

    ``now``, ``now-2d``, ``now-5h``, ``now-30m`` are relative to the import (demo and fixture
    data that must stay "recent")."""
    if isinstance(value, str) and (rel := _RELATIVE.match(value.strip())):
        amount = int(rel.group(1) or 0)
        unit = {"d": "days", "h": "hours", "m": "minutes"}[rel.group(2) or "m"]
        return datetime.now(UTC) - timedelta(**{unit: amount})
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise RowError(f"{name} must be an ISO-8601 date-time") from None
    if not isinstance(value, datetime):
        raise RowError(f"{name} must be an ISO-8601 date-time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)


def _amount(value: object) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise RowError("transaction amount must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError("transaction amount must be a number")
    amount = float(value)
    if not math.isfinite(amount) or amount < 0 or amount > 1e9:
        raise RowError("transaction amount must be between 0 and 1e9")
    return round(amount, 2)


def _optional_text(name: str, value: object, limit: int) -> str:
    return "" if _absent(value) else mask_text(_text(name, value, limit))


def parse_transaction(raw: object, zone: str = DEFAULT_TIMEZONE) -> Transaction:
    if not isinstance(raw, Mapping):
        raise RowError("each recent_transactions item must be an object")
    unknown = sorted(set(raw) - set(TRANSACTION_FIELDS))
    if unknown:
        raise RowError(f"unknown transaction field(s): {', '.join(map(str, unknown))}")
    for name in ("at", "kind", "amount", "status"):
        if _absent(raw.get(name)):
            raise RowError(f"transaction {name} is required")
    currency = raw.get("currency") or "CNY"
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency.strip().upper()):
        raise RowError("transaction currency must be a 3-letter code")
    error = raw.get("error")
    return Transaction(
        at=parse_time("transaction at", raw["at"], zone),
        kind=_enum(TransactionKind, "transaction kind")(raw["kind"]),
        amount=_amount(raw["amount"]),
        currency=currency.strip().upper(),
        status=_enum(TransactionStatus, "transaction status")(raw["status"]),
        channel=_optional_text("transaction channel", raw.get("channel"), 60),
        payee=_optional_text("transaction payee", raw.get("payee"), 80),
        error=None if _absent(error) else _optional_text("transaction error", error, 200),
    )


def _documents(value: object) -> tuple[str, ...]:
    docs: list[str] = []
    for item in _list("missing_documents", value):
        if not isinstance(item, str) or not _SLUG.fullmatch(item.strip()):
            raise RowError("missing_documents items must be codes like id_card_back")
        if item.strip() not in docs:
            docs.append(item.strip())
    return tuple(docs)


def _transactions(value: object, zone: str) -> tuple[Transaction, ...]:
    items = _list("recent_transactions", value)
    if len(items) > MAX_TRANSACTIONS:
        raise RowError(f"at most {MAX_TRANSACTIONS} recent_transactions")
    return tuple(sorted((parse_transaction(item, zone) for item in items),
                        key=lambda t: t.at, reverse=True))


def _email(value: object) -> str:
    text = _text("email", value, 254)
    if not _EMAIL.fullmatch(text):
        raise RowError("bad email address")
    return text


def customer_from_mapping(raw: Mapping[str, object]) -> Customer:
    """Validate one row; raise :class:`RowError` naming the first problem."""
    unknown = sorted(str(key) for key in raw if key not in CUSTOMER_FIELDS)
    if unknown:
        raise RowError(f"unknown field(s): {', '.join(unknown)}")
    missing = [name for name in REQUIRED if _absent(raw.get(name))]
    if missing:
        raise RowError(f"missing required field(s): {', '.join(missing)}")
    customer_id = raw["customer_id"]
    if not isinstance(customer_id, str) or not _CUSTOMER_ID.fullmatch(customer_id.strip()):
        raise RowError("bad customer_id (letters, digits and _.:- up to 64 characters)")
    zone = DEFAULT_TIMEZONE if _absent(raw.get("timezone")) else _timezone(raw["timezone"])
    parsers: dict[str, Callable[[object], object]] = {
        "name": lambda v: _text("name", v, 100),
        "phone": _phone,
        "title": lambda v: _text("title", v, 40),
        "id_last4": _id_last4,
        "card_last4": _card_last4,
        "city": lambda v: _text("city", v, 60),
        "application_status": _enum(ApplicationStatus, "application_status"),
        "activation_status": _enum(ActivationStatus, "activation_status"),
        "missing_documents": _documents,
        "expected_review_days": lambda v: _int("expected_review_days", v, 0, 365),
        "language": _enum(Language, "language"),
        "marketing_opt_out": lambda v: _bool("marketing_opt_out", v),
        "preferred_channel": _enum(Channel, "preferred_channel"),
        "email": _email,
        "pre_review_passed_at": lambda v: parse_time("pre_review_passed_at", v, zone),
        "recent_transactions": lambda v: _transactions(v, zone),
    }
    values: dict[str, Any] = {"customer_id": customer_id.strip(), "timezone": zone}
    for name, parse in parsers.items():
        if not _absent(raw.get(name)):
            values[name] = parse(raw[name])
    return Customer(**values)
