"""Sample customers shared by the customer, store and web tests.

Import as ``tests.customers.customer_samples`` (the repository root is on ``sys.path``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ivr.core.types import Language
from ivr.customers.idhash import IdHasher
from ivr.customers.model import (
    ActivationStatus,
    ApplicationStatus,
    Channel,
    Customer,
    Transaction,
    TransactionKind,
    TransactionStatus,
)

HASHER = IdHasher(b"server-key-for-tests-0123456789ab")
NOW = datetime(2024, 6, 10, 8, 0, tzinfo=UTC)
PHONE = "+8613812345678"
PHONE_DIGITS = "13812345678"


def transactions() -> tuple[Transaction, ...]:
    def tx(days: float, kind: TransactionKind, status: TransactionStatus, **kw: Any) -> Transaction:
        return Transaction(at=NOW - timedelta(days=days), kind=kind, amount=kw.pop("amount", 99.5),
                           currency="CNY", status=status, channel=kw.pop("channel", "app_qr"),
                           payee=kw.pop("payee", "星巴克"), error=kw.pop("error", None))

    return (
        tx(1, TransactionKind.PAYMENT, TransactionStatus.FAILED, error="余额不足", amount=128.0),
        tx(2, TransactionKind.PAYMENT, TransactionStatus.OK),
        tx(3, TransactionKind.REFUND, TransactionStatus.OK, payee="京东商城", amount=45.0),
        tx(4, TransactionKind.TOPUP, TransactionStatus.FAILED, payee=""),
        tx(9, TransactionKind.PAYMENT, TransactionStatus.FAILED, error="网络异常"),
        tx(10, TransactionKind.REFUND, TransactionStatus.OK),
    )


def customer(plain: bool = False, **overrides: Any) -> Customer:
    """A sample customer as stored (ID digits hashed with ``HASHER``), or as read from an import
    file (``plain=True``: ``id_last4`` in clear)."""
    values: dict[str, Any] = {
        "customer_id": "c-001",
        "name": "张伟",
        "phone": PHONE,
        "title": "张先生",
        "id_last4": "123X",
        "card_last4": "4321",
        "city": "上海",
        "application_status": ApplicationStatus.PRE_REVIEW_PASSED,
        "activation_status": ActivationStatus.INACTIVE,
        "missing_documents": ("id_card_back", "proof_of_address"),
        "expected_review_days": 2,
        "language": Language.ZH,
        "marketing_opt_out": False,
        "preferred_channel": Channel.SMS,
        "email": "zhang.wei@example.com",
        "timezone": "Asia/Shanghai",
        "pre_review_passed_at": NOW - timedelta(days=2),
        "recent_transactions": transactions(),
    }
    values.update(overrides)
    raw = Customer(**values)
    return raw if plain else HASHER.protect(raw)
