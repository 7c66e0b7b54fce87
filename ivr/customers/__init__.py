"""Customer records, follow-up tasks and the demo data set.

Import the parts directly (``ivr.customers.service``, ``ivr.customers.importer`` ...);
this package only re-exports the record types so that ``ivr.store`` can depend on it.
"""

from ivr.customers.model import (
    ActivationStatus,
    ApplicationStatus,
    Channel,
    Customer,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    IdLock,
    Transaction,
    TransactionKind,
    TransactionStatus,
)

__all__ = [
    "ActivationStatus",
    "ApplicationStatus",
    "Channel",
    "Customer",
    "FollowUp",
    "FollowUpKind",
    "FollowUpStatus",
    "IdLock",
    "Transaction",
    "TransactionKind",
    "TransactionStatus",
]
