"""Customer records, their recent transactions and follow-up tasks (typed, no I/O).

Times are timezone-aware UTC datetimes. ``Customer.phone`` is the full E.164 number kept for
dialling only: it is left out of ``repr`` and every view built for an API or a log goes
through :func:`ivr.customers.profile.phone_masked`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ivr.core.types import Language

DEFAULT_TIMEZONE = "Asia/Shanghai"


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    PRE_REVIEW_PASSED = "pre_review_passed"
    REJECTED = "rejected"


class ActivationStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Channel(StrEnum):
    """How a customer prefers to get a survey link when a call does not reach them."""

    SMS = "sms"
    EMAIL = "email"
    NONE = "none"


class TransactionKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    TOPUP = "topup"


class TransactionStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"


class FollowUpKind(StrEnum):
    INFO_CORRECTION = "info_correction"
    BANK_CARD_CHANGE = "bank_card_change"
    PAYMENT_INVESTIGATION = "payment_investigation"
    CALLBACK = "callback"
    FRAUD_REPORT = "fraud_report"
    COMPLAINT = "complaint"
    PHONE_REVIEW = "phone_review"  # the callee said the number is not the customer's
    OTHER = "other"


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


# Hours until a follow-up is due when the caller of the API gives none.
DEFAULT_DUE_HOURS: dict[FollowUpKind, float] = {
    FollowUpKind.FRAUD_REPORT: 1,
    FollowUpKind.BANK_CARD_CHANGE: 24,
    FollowUpKind.COMPLAINT: 24,
    FollowUpKind.PAYMENT_INVESTIGATION: 24,
    FollowUpKind.CALLBACK: 24,
    FollowUpKind.INFO_CORRECTION: 48,
    FollowUpKind.PHONE_REVIEW: 48,
    FollowUpKind.OTHER: 48,
}


@dataclass(frozen=True, slots=True)
class Transaction:
    at: datetime
    kind: TransactionKind
    amount: float
    currency: str
    status: TransactionStatus
    channel: str = ""
    payee: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    name: str
    phone: str = field(repr=False)
    title: str | None = None
    # The last 4 of the ID number as read from an import file; never stored (the store refuses
    # it): ``ivr.customers.idhash.IdHasher.protect`` turns it into ``id_hash`` + the X flag.
    id_last4: str | None = field(default=None, repr=False)
    card_last4: str | None = None
    city: str | None = None
    application_status: ApplicationStatus = ApplicationStatus.SUBMITTED
    activation_status: ActivationStatus = ActivationStatus.INACTIVE
    missing_documents: tuple[str, ...] = ()
    expected_review_days: int | None = None
    language: Language = Language.ZH
    marketing_opt_out: bool = False
    preferred_channel: Channel = Channel.SMS
    email: str | None = field(default=None, repr=False)
    timezone: str = DEFAULT_TIMEZONE
    pre_review_passed_at: datetime | None = None
    recent_transactions: tuple[Transaction, ...] = ()
    id_hash: str | None = field(default=None, repr=False)
    id_ends_with_x: bool = False


CUSTOMER_FIELDS: tuple[str, ...] = tuple(Customer.__dataclass_fields__)
TRANSACTION_FIELDS: tuple[str, ...] = tuple(Transaction.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A task for a human, created during a call. ``detail`` is masked by the store."""

    kind: FollowUpKind
    call_sid: str | None
    customer_id: str | None
    detail: str
    due_at: datetime
    created_at: datetime
    status: FollowUpStatus = FollowUpStatus.OPEN
    owner: str | None = None
    done_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class IdLock:
    """Failed ID checks of one customer, across calls."""

    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None
