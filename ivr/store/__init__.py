"""Persistence of calls, turns and events behind one interface (``CallStore``)."""

from ivr.store.base import CallStore, Store
from ivr.store.export import call_summary, call_to_dict
from ivr.store.records import (
    CallEvent,
    CallRecord,
    Counter,
    Direction,
    EventKind,
    Role,
    TurnRecord,
    TurnSource,
)
from ivr.store.sqlite import SqliteCallStore

__all__ = [
    "CallEvent",
    "CallRecord",
    "CallStore",
    "Counter",
    "Direction",
    "EventKind",
    "Role",
    "SqliteCallStore",
    "Store",
    "TurnRecord",
    "TurnSource",
    "call_summary",
    "call_to_dict",
]
