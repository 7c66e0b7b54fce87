"""Row validation: CSV strings and JSON values into customers, with reasons for bad rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ivr.core.types import Language
from ivr.customers.model import ApplicationStatus, Channel, TransactionKind
from ivr.customers.validate import RowError, customer_from_mapping, normalize_phone


def row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"customer_id": "c-1", "name": "李娜", "phone": "+8613912345678"}
    values.update(overrides)
    return values


def test_minimal_row_gets_defaults() -> None:
    c = customer_from_mapping(row())
    assert c.language is Language.ZH and c.timezone == "Asia/Shanghai"
    assert c.application_status is ApplicationStatus.SUBMITTED
    assert c.preferred_channel is Channel.SMS and c.marketing_opt_out is False
    assert c.missing_documents == () and c.recent_transactions == ()


def test_csv_style_strings_are_parsed() -> None:
    c = customer_from_mapping(row(
        phone=" +86 139-1234-5678 ", language="EN", marketing_opt_out="yes",
        missing_documents="id_card_back; proof_of_address", expected_review_days="3",
        id_last4="123x", card_last4="0042", pre_review_passed_at="2024-06-01T10:00:00",
        recent_transactions='[{"at": "2024-06-09T12:00:00+00:00", "kind": "refund",'
                            ' "amount": "12.5", "status": "ok", "payee": "京东"}]',
    ))
    assert c.phone == "+8613912345678"
    assert c.language is Language.EN and c.marketing_opt_out is True
    assert c.missing_documents == ("id_card_back", "proof_of_address")
    assert c.expected_review_days == 3 and c.id_last4 == "123X" and c.card_last4 == "0042"
    # a time without offset is in the customer's timezone (Shanghai, UTC+8)
    assert c.pre_review_passed_at == datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
    (tx,) = c.recent_transactions
    assert tx.kind is TransactionKind.REFUND and tx.amount == 12.5 and tx.currency == "CNY"


def test_json_lists_in_a_csv_cell() -> None:
    c = customer_from_mapping(row(missing_documents='["selfie", "selfie", "id_card_front"]'))
    assert c.missing_documents == ("selfie", "id_card_front")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"phone": "13812345678"}, "bad phone"),
        ({"phone": "+86 138 1234"}, "bad phone"),
        ({"language": "fr"}, "bad language"),
        ({"id_last4": "12345"}, "id_last4 must be exactly 4 characters"),
        ({"id_last4": "12X4"}, "the last one may be X"),
        ({"card_last4": "12a4"}, "card_last4"),
        ({"nickname": "x"}, "unknown field(s): nickname"),
        ({"name": ""}, "missing required field(s): name"),
        ({"application_status": "approved"}, "bad application_status"),
        ({"marketing_opt_out": "maybe"}, "marketing_opt_out must be true or false"),
        ({"expected_review_days": "-1"}, "expected_review_days"),
        ({"timezone": "Mars/Base"}, "unknown timezone"),
        ({"email": "not-an-address"}, "bad email"),
        ({"missing_documents": "Bad Doc"}, "missing_documents"),
        ({"recent_transactions": "[{"}, "bad JSON list"),
        ({"recent_transactions": [{"at": "2024-06-01", "kind": "gift", "amount": 1,
                                   "status": "ok"}]}, "bad transaction kind"),
        ({"recent_transactions": [{"at": "2024-06-01", "kind": "payment", "amount": -1,
                                   "status": "ok"}]}, "amount"),
        ({"recent_transactions": [{"at": "2024-06-01", "kind": "payment", "amount": 1,
                                   "status": "ok", "card": "x"}]}, "unknown transaction"),
        ({"customer_id": "bad id!"}, "bad customer_id"),
    ],
)
def test_bad_values_are_named(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(RowError) as err:
        customer_from_mapping(row(**overrides))
    assert reason in str(err.value)


def test_bad_phone_reason_does_not_echo_the_number() -> None:
    with pytest.raises(RowError) as err:
        customer_from_mapping(row(phone="0-13812345678-99"))
    assert "13812345678" not in str(err.value)


def test_normalize_phone() -> None:
    assert normalize_phone("0086 138 1234 5678") == "+8613812345678"
    assert normalize_phone("+1 (415) 555-0100") == "+14155550100"
