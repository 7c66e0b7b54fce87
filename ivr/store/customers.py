"""Customers, follow-up tasks and ID-check failures: interface and SQLite implementation.

Same database file and connection rules as the call store (``ivr.store.connection``): WAL,
serialized writes, each committed before it returns. The customer's full phone number is
stored as given (it is dialled); follow-up details are masked on write.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import aiosqlite

from ivr.core.errors import StoreError
from ivr.core.pii import mask_text
from ivr.core.types import Language
from ivr.customers.identity import IdPolicy, IdVerdict
from ivr.customers.model import (
    CUSTOMER_FIELDS,
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
from ivr.store.codec import time_from_db, time_to_db
from ivr.store.connection import SqliteStore
from ivr.store.id_checks import IdCheckStore
from ivr.store.sanitize import utc

MAX_DETAIL = 1000
_COLUMNS = (*CUSTOMER_FIELDS, "created_at", "updated_at")
_UPSERT = (
    f"INSERT INTO customers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    " ON CONFLICT (customer_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _COLUMNS[1:] if name != "created_at")
    + " RETURNING created_at = updated_at"
)
_FOLLOWUP_COLUMNS = ("call_sid", "customer_id", "kind", "detail", "status", "owner", "due_at",
                     "created_at", "done_at")


@runtime_checkable
class CustomerStore(Protocol):
    """Persistence of customers and follow-ups; raises ``StoreError`` on every failure."""

    async def close(self) -> None: ...

    async def upsert_customers(self, customers: Iterable[Customer]) -> tuple[int, int]:
        """Insert or replace by ``customer_id`` in one transaction; (created, updated)."""
        ...

    async def get_customer(self, customer_id: str) -> Customer | None: ...

    async def find_by_phone(self, phone: str) -> list[Customer]:
        """Customers whose stored E.164 number equals ``phone`` (already normalized)."""
        ...

    async def list_customers(self, limit: int = 100, offset: int = 0) -> list[Customer]: ...

    async def id_lock(self, customer_id: str) -> IdLock: ...

    async def record_id_attempt(self, customer_id: str, ok: bool, now: datetime,
                                policy: IdPolicy) -> IdVerdict:
        """Count one complete ID answer for the customer (across calls); the verdict."""
        ...

    async def plain_ids(self) -> list[tuple[str, str]]: ...

    async def set_id_hashes(self, items: list[tuple[str, str, bool]]) -> None: ...

    async def add_followup(self, task: FollowUp) -> FollowUp:
        """Store a new task (``id`` ignored); return it with its id and masked detail."""
        ...

    async def get_followup(self, task_id: int) -> FollowUp | None: ...

    async def list_followups(
        self, status: FollowUpStatus | None = None, limit: int = 100, offset: int = 0,
        call_sid: str | None = None,
    ) -> list[FollowUp]:
        """Oldest due first."""
        ...

    async def complete_followup(self, task_id: int, owner: str | None = None) -> FollowUp | None:
        """Mark done (idempotent); None when there is no such task."""
        ...


def _transaction_json(t: Transaction) -> dict[str, Any]:
    return {"at": time_to_db(t.at), "kind": t.kind.value, "amount": t.amount,
            "currency": t.currency, "status": t.status.value, "channel": t.channel,
            "payee": t.payee, "error": t.error}


def _customer_values(c: Customer, now: datetime) -> tuple[Any, ...]:
    if c.id_last4 is not None:
        raise StoreError(f"customer {c.customer_id!r}: plain ID digits are never stored "
                         "(hash them first: IdHasher.protect)")
    out: list[Any] = []
    for name in CUSTOMER_FIELDS:
        value = getattr(c, name)
        if name == "missing_documents":
            value = json.dumps(list(value), ensure_ascii=False)
        elif name == "recent_transactions":
            value = json.dumps([_transaction_json(t) for t in value], ensure_ascii=False)
        elif isinstance(value, datetime):
            value = time_to_db(utc(value, name))
        elif isinstance(value, bool):
            value = int(value)
        out.append(value)
    stamp = time_to_db(now)
    return (*out, stamp, stamp)


def _transaction_from(raw: dict[str, Any]) -> Transaction:
    return Transaction(
        at=datetime.fromisoformat(raw["at"]), kind=TransactionKind(raw["kind"]),
        amount=float(raw["amount"]), currency=raw["currency"],
        status=TransactionStatus(raw["status"]), channel=raw.get("channel") or "",
        payee=raw.get("payee") or "", error=raw.get("error"),
    )


def _customer_from(row: sqlite3.Row) -> Customer:
    try:
        return Customer(
            customer_id=row["customer_id"], name=row["name"], phone=row["phone"],
            title=row["title"], card_last4=row["card_last4"],
            id_hash=row["id_hash"], id_ends_with_x=bool(row["id_ends_with_x"]),
            city=row["city"],
            application_status=ApplicationStatus(row["application_status"]),
            activation_status=ActivationStatus(row["activation_status"]),
            missing_documents=tuple(json.loads(row["missing_documents"])),
            expected_review_days=row["expected_review_days"],
            language=Language(row["language"]),
            marketing_opt_out=bool(row["marketing_opt_out"]),
            preferred_channel=Channel(row["preferred_channel"]),
            email=row["email"], timezone=row["timezone"],
            pre_review_passed_at=time_from_db(row["pre_review_passed_at"]),
            recent_transactions=tuple(
                _transaction_from(t) for t in json.loads(row["recent_transactions"])),
        )
    except (ValueError, TypeError, KeyError) as err:
        raise StoreError(f"corrupt customer row {row['customer_id']!r}: {err}") from err


def _followup_from(row: sqlite3.Row) -> FollowUp:
    try:
        return FollowUp(
            id=int(row["id"]), call_sid=row["call_sid"], customer_id=row["customer_id"],
            kind=FollowUpKind(row["kind"]), detail=row["detail"],
            status=FollowUpStatus(row["status"]), owner=row["owner"],
            due_at=datetime.fromisoformat(row["due_at"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            done_at=time_from_db(row["done_at"]),
        )
    except (ValueError, TypeError) as err:
        raise StoreError(f"corrupt follow-up row {row['id']!r}: {err}") from err


def _clean_followup(task: FollowUp) -> FollowUp:
    if not isinstance(task.detail, str):
        raise StoreError("follow-up detail must be a string")
    if task.owner is not None and (not isinstance(task.owner, str) or len(task.owner) > 64):
        raise StoreError("follow-up owner must be a string of at most 64 characters")
    try:
        kind, status = FollowUpKind(task.kind), FollowUpStatus(task.status)
    except ValueError as err:
        raise StoreError(f"invalid follow-up: {err}") from err
    due_at, created_at = utc(task.due_at, "due_at"), utc(task.created_at, "created_at")
    if due_at is None or created_at is None:
        raise StoreError("follow-up due_at and created_at are required")
    return dataclasses.replace(
        task, kind=kind, status=status, detail=mask_text(task.detail)[:MAX_DETAIL],
        due_at=due_at, created_at=created_at, done_at=utc(task.done_at, "done_at"),
    )


def _page(limit: int, offset: int) -> None:
    if limit < 1 or offset < 0:
        raise StoreError(f"invalid page limit={limit} offset={offset}")


class SqliteCustomerStore(IdCheckStore, SqliteStore):
    """The SQLite ``CustomerStore``. Create with ``await SqliteCustomerStore.open(path)``."""


    async def upsert_customers(self, customers: Iterable[Customer]) -> tuple[int, int]:
        now = datetime.now(UTC)
        rows = [_customer_values(c, now) for c in customers]

        async def op(conn: aiosqlite.Connection) -> tuple[int, int]:
            created = 0
            for values in rows:
                async with conn.execute(_UPSERT, values) as cur:
                    row = await cur.fetchone()
                created += bool(row is not None and row[0])
            return created, len(rows) - created

        return await self._db.write(op)

    async def get_customer(self, customer_id: str) -> Customer | None:
        rows = await self._db.fetch("SELECT * FROM customers WHERE customer_id = ?",
                                    (customer_id,))
        return _customer_from(rows[0]) if rows else None

    async def find_by_phone(self, phone: str) -> list[Customer]:
        rows = await self._db.fetch(
            "SELECT * FROM customers WHERE phone = ? ORDER BY customer_id", (phone,))
        return [_customer_from(row) for row in rows]

    async def list_customers(self, limit: int = 100, offset: int = 0) -> list[Customer]:
        _page(limit, offset)
        rows = await self._db.fetch(
            "SELECT * FROM customers ORDER BY customer_id LIMIT ? OFFSET ?", (limit, offset))
        return [_customer_from(row) for row in rows]

    async def add_followup(self, task: FollowUp) -> FollowUp:
        clean = _clean_followup(task)
        values = tuple(
            time_to_db(v) if isinstance(v, datetime) else v
            for v in (getattr(clean, name) for name in _FOLLOWUP_COLUMNS)
        )
        sql = (f"INSERT INTO followups ({', '.join(_FOLLOWUP_COLUMNS)})"
               f" VALUES ({', '.join('?' * len(_FOLLOWUP_COLUMNS))})")

        async def op(conn: aiosqlite.Connection) -> int:
            cur = await conn.execute(sql, values)
            await cur.close()
            if cur.lastrowid is None:
                raise StoreError("follow-up insert returned no id")
            return cur.lastrowid

        return dataclasses.replace(clean, id=await self._db.write(op))

    async def get_followup(self, task_id: int) -> FollowUp | None:
        rows = await self._db.fetch("SELECT * FROM followups WHERE id = ?", (task_id,))
        return _followup_from(rows[0]) if rows else None

    async def list_followups(
        self, status: FollowUpStatus | None = None, limit: int = 100, offset: int = 0,
        call_sid: str | None = None,
    ) -> list[FollowUp]:
        _page(limit, offset)
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(FollowUpStatus(status).value)
        if call_sid is not None:
            where.append("call_sid = ?")
            params.append(call_sid)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._db.fetch(
            f"SELECT * FROM followups {clause} ORDER BY due_at, id LIMIT ? OFFSET ?",
            (*params, limit, offset))
        return [_followup_from(row) for row in rows]

    async def complete_followup(self, task_id: int, owner: str | None = None) -> FollowUp | None:
        if owner is not None and len(owner) > 64:
            raise StoreError("follow-up owner must be at most 64 characters")
        sql = ("UPDATE followups SET status = 'done', done_at = COALESCE(done_at, ?),"
               " owner = COALESCE(?, owner) WHERE id = ? RETURNING *")
        params = (time_to_db(datetime.now(UTC)), owner, task_id)

        async def op(conn: aiosqlite.Connection) -> FollowUp | None:
            async with conn.execute(sql, params) as cur:
                row = await cur.fetchone()
            return None if row is None else _followup_from(row)

        return await self._db.write(op)
