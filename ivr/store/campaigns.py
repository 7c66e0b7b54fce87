"""Campaigns, their targets, dial attempts and do-not-call lists on the SQL store (SQLite or
PostgreSQL, ``ivr.store.db``).

Every state change is one conditional UPDATE (``from_states``), so two tasks or workers
racing on the same target or attempt cannot both win. :meth:`SqlCampaignStore.begin_attempt`
claims a target and writes its attempt (``dialing``, unique per campaign, customer and
attempt number) in one transaction, committed before the provider is asked to dial; dialers
lease due targets first (:meth:`SqlCampaignStore.claim_due`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ivr.campaigns.model import (
    ACTIVE_ATTEMPTS,
    LINE_AFTER_CLOSE,
    Attempt,
    AttemptState,
    Campaign,
    CampaignState,
    Target,
    TargetState,
)
from ivr.store.campaign_rows import (
    ATTEMPT_FIELDS,
    CAMPAIGN_TIMES,
    TARGET_FIELDS,
    attempt_from,
    campaign_from,
    set_clause,
    sql_in,
    target_from,
)
from ivr.store.db import Row, StoreConflict, Tx
from ivr.store.sqlbase import SqlStore

ALL_CAMPAIGNS = "*"  # a do-not-call entry for every campaign
_DUE = ("campaign_id = ? AND state IN ('queued', 'retrying') AND (next_at IS NULL OR"
        " next_at <= ?) AND (lease_owner IS NULL OR lease_until <= ?)")
_DUE_ORDER = "COALESCE(next_at, created_at), customer_id"
_WAITING_LINE = f"state IN ({sql_in(LINE_AFTER_CLOSE)}) AND line_released_at IS NULL"
_HOLDS_LINE = f"(state IN ({sql_in(ACTIVE_ATTEMPTS)}) OR ({_WAITING_LINE}))"


class SqlCampaignStore(SqlStore):
    """``await SqlCampaignStore.open(path)`` (the call store's SQLite file), or
    ``SqlCampaignStore(db)`` on an open database."""

    # -- campaigns -------------------------------------------------------------------------

    async def create_campaign(self, c: Campaign) -> Campaign:
        sql = ("INSERT INTO campaigns (id, name, purpose, rules, policy, state, created_at,"
               " updated_at, started_at, finished_at, ends_at, rules_checked_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *")
        params = (c.id, c.name, c.purpose.value, json.dumps([r.to_json() for r in c.rules]),
                  json.dumps(c.policy.to_json(), ensure_ascii=False), c.state.value,
                  *(getattr(c, name) for name in CAMPAIGN_TIMES))
        try:
            rows = await self._write_rows(sql, params)
        except StoreConflict as err:
            raise StoreConflict(f"campaign {c.id!r} already exists") from err
        return campaign_from(rows[0])

    async def get_campaign(self, campaign_id: str) -> Campaign | None:
        rows = await self._db.fetch("SELECT * FROM campaigns WHERE id = ?", (campaign_id,))
        return campaign_from(rows[0]) if rows else None

    async def list_campaigns(self, state: CampaignState | None = None) -> list[Campaign]:
        if state is None:
            rows = await self._db.fetch("SELECT * FROM campaigns ORDER BY created_at, id")
        else:
            rows = await self._db.fetch(
                "SELECT * FROM campaigns WHERE state = ? ORDER BY created_at, id", (state.value,))
        return [campaign_from(row) for row in rows]

    async def update_campaign(self, campaign_id: str, now: datetime, *,
                              from_states: Sequence[CampaignState] | None = None,
                              **fields: Any) -> Campaign | None:
        """Set ``state`` and/or times; None when the campaign is missing or not in
        ``from_states``."""
        allowed = frozenset({"state", *CAMPAIGN_TIMES})
        clause, params = set_clause({**fields, "updated_at": now}, allowed)
        where = f" AND state IN ({sql_in(from_states)})" if from_states else ""
        rows = await self._write_rows(
            f"UPDATE campaigns SET {clause} WHERE id = ?{where} RETURNING *",
            (*params, campaign_id))
        return campaign_from(rows[0]) if rows else None

    # -- targets ---------------------------------------------------------------------------

    async def add_targets(self, campaign_id: str, targets: Iterable[tuple[str, str]],
                          now: datetime) -> int:
        """Add (customer_id, source) pairs as ``queued``; existing targets are kept as they
        are. Returns how many were new."""
        values = [(campaign_id, cid, source, TargetState.QUEUED.value, now, now)
                  for cid, source in targets]

        async def op(tx: Tx) -> int:
            added = 0
            for row in values:
                added += len(await tx.fetch(
                    "INSERT INTO campaign_targets (campaign_id, customer_id, source, state,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING RETURNING 1", row))
            return added

        return await self._db.write(op)

    async def get_target(self, campaign_id: str, customer_id: str) -> Target | None:
        rows = await self._db.fetch(
            "SELECT * FROM campaign_targets WHERE campaign_id = ? AND customer_id = ?",
            (campaign_id, customer_id))
        return target_from(rows[0]) if rows else None

    async def list_targets(self, campaign_id: str,
                           states: Sequence[TargetState] | None = None) -> list[Target]:
        where = f" AND state IN ({sql_in(states)})" if states else ""
        rows = await self._db.fetch(
            f"SELECT * FROM campaign_targets WHERE campaign_id = ?{where}"
            " ORDER BY created_at, customer_id", (campaign_id,))
        return [target_from(row) for row in rows]

    async def due_targets(self, campaign_id: str, now: datetime, limit: int) -> list[Target]:
        """Queued or retrying targets whose ``next_at`` has come and that no worker holds
        a live lease on, earliest first."""
        rows = await self._db.fetch(
            f"SELECT * FROM campaign_targets WHERE {_DUE} ORDER BY {_DUE_ORDER} LIMIT ?",
            (campaign_id, now, now, limit))
        return [target_from(row) for row in rows]

    async def claim_due(self, campaign_id: str, now: datetime, limit: int, worker: str,
                        lease_until: datetime) -> list[Target]:
        """Lease up to ``limit`` due targets to ``worker`` until ``lease_until``, earliest
        first. Two workers claiming at once get different targets (``FOR UPDATE SKIP
        LOCKED`` on PostgreSQL; SQLite's write transactions are exclusive). A lease that
        runs out (its worker died before dialling) makes the target due again."""
        async def op(tx: Tx) -> list[Row]:
            return await tx.fetch(
                "UPDATE campaign_targets SET lease_owner = ?, lease_until = ?"
                " WHERE (campaign_id, customer_id) IN (SELECT campaign_id, customer_id"
                f" FROM campaign_targets WHERE {_DUE} ORDER BY {_DUE_ORDER} LIMIT ?"
                f"{tx.dialect.skip_locked}) RETURNING *",
                (worker, lease_until, campaign_id, now, now, limit))

        targets = [target_from(row) for row in await self._db.write(op)]
        return sorted(targets, key=lambda t: (t.next_at or t.created_at, t.customer_id))

    async def release_leases(self, campaign_id: str, worker: str) -> int:
        """Give back ``worker``'s leases it did not dial; returns how many."""
        rows = await self._write_rows(
            "UPDATE campaign_targets SET lease_owner = NULL, lease_until = NULL"
            " WHERE campaign_id = ? AND lease_owner = ? RETURNING 1", (campaign_id, worker))
        return len(rows)

    async def state_counts(self, campaign_id: str) -> dict[str, int]:
        rows = await self._db.fetch(
            "SELECT state, COUNT(*) FROM campaign_targets WHERE campaign_id = ? GROUP BY state",
            (campaign_id,))
        counts = {state.value: 0 for state in TargetState}
        counts.update({str(row[0]): int(row[1]) for row in rows})
        return counts

    async def update_target(self, campaign_id: str, customer_id: str, now: datetime, *,
                            from_states: Sequence[TargetState] | None = None,
                            **fields: Any) -> Target | None:
        clause, params = set_clause(fields, TARGET_FIELDS)
        where = f" AND state IN ({sql_in(from_states)})" if from_states else ""
        rows = await self._write_rows(
            f"UPDATE campaign_targets SET {clause}, updated_at = ?"
            f" WHERE campaign_id = ? AND customer_id = ?{where} RETURNING *",
            (*params, now, campaign_id, customer_id))
        return target_from(rows[0]) if rows else None

    # -- attempts --------------------------------------------------------------------------

    async def begin_attempt(self, target: Target, attempt_id: str, now: datetime,
                            worker: str = "") -> Attempt | None:
        """Claim a due target and write its next attempt as ``dialing`` (one transaction),
        ending any lease on it. None when another dialer claimed it first (state, attempt
        count or a live lease of another worker changed)."""
        async def op(tx: Tx) -> Attempt | None:
            claimed = await tx.fetch(
                "UPDATE campaign_targets SET state = 'dialing', attempts = attempts + 1,"
                " next_at = NULL, updated_at = ?, lease_owner = NULL, lease_until = NULL"
                " WHERE campaign_id = ? AND customer_id = ?"
                " AND state IN ('queued', 'retrying') AND attempts = ?"
                " AND (lease_owner IS NULL OR lease_owner = ? OR lease_until <= ?)"
                " RETURNING attempts",
                (now, target.campaign_id, target.customer_id, target.attempts, worker, now))
            if not claimed:
                return None
            rows = await tx.fetch(
                "INSERT INTO campaign_attempts (id, campaign_id, customer_id, attempt_no,"
                " state, created_at, worker) VALUES (?, ?, ?, ?, 'dialing', ?, ?) RETURNING *",
                (attempt_id, target.campaign_id, target.customer_id, int(claimed[0][0]), now,
                 worker))
            return attempt_from(rows[0])

        return await self._db.write(op)

    async def update_attempt(self, attempt_id: str, *,
                             from_states: Sequence[AttemptState] | None = None,
                             **fields: Any) -> Attempt | None:
        clause, params = set_clause(fields, ATTEMPT_FIELDS)
        where = f" AND state IN ({sql_in(from_states)})" if from_states else ""
        rows = await self._write_rows(
            f"UPDATE campaign_attempts SET {clause} WHERE id = ?{where} RETURNING *",
            (*params, attempt_id))
        return attempt_from(rows[0]) if rows else None

    async def count_lines_held(self, campaign_id: str) -> int:
        """The campaign's attempts that may still have a call up at the provider: active
        ones, and completed or voicemail ones whose line is not released yet."""
        rows = await self._db.fetch(
            f"SELECT COUNT(*) FROM campaign_attempts WHERE campaign_id = ? AND {_HOLDS_LINE}",
            (campaign_id,))
        return int(rows[0][0])

    async def release_line(self, attempt_id: str, now: datetime) -> Attempt | None:
        """Record that the attempt's call is over at the provider; None when it was
        recorded already (or the attempt is missing)."""
        rows = await self._write_rows(
            "UPDATE campaign_attempts SET line_released_at = ?"
            " WHERE id = ? AND line_released_at IS NULL RETURNING *", (now, attempt_id))
        return attempt_from(rows[0]) if rows else None

    async def release_stale_lines(self, closed_before: datetime, now: datetime) -> int:
        """Release the lines of completed or voicemail attempts closed before
        ``closed_before`` that still wait for their final status; returns how many."""
        rows = await self._write_rows(
            f"UPDATE campaign_attempts SET line_released_at = ? WHERE {_WAITING_LINE}"
            " AND COALESCE(ended_at, dialed_at, created_at) < ? RETURNING 1",
            (now, closed_before))
        return len(rows)

    async def get_attempt(self, attempt_id: str) -> Attempt | None:
        rows = await self._db.fetch("SELECT * FROM campaign_attempts WHERE id = ?",
                                    (attempt_id,))
        return attempt_from(rows[0]) if rows else None

    async def attempt_by_sid(self, call_sid: str) -> Attempt | None:
        rows = await self._db.fetch(
            "SELECT * FROM campaign_attempts WHERE call_sid = ? ORDER BY created_at DESC"
            " LIMIT 1", (call_sid,))
        return attempt_from(rows[0]) if rows else None

    async def list_attempts(self, campaign_id: str | None = None,
                            states: Sequence[AttemptState] | None = None,
                            worker: str | None = None) -> list[Attempt]:
        where, params = [], []
        if campaign_id is not None:
            where.append("campaign_id = ?")
            params.append(campaign_id)
        if worker is not None:
            where.append("worker = ?")
            params.append(worker)
        if states:
            where.append(f"state IN ({sql_in(states)})")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._db.fetch(
            f"SELECT * FROM campaign_attempts {clause} ORDER BY created_at, attempt_no",
            tuple(params))
        return [attempt_from(row) for row in rows]

    async def contact_history(self, customer_id: str, campaign_id: str,
                              since: datetime) -> tuple[int, int]:
        """(other campaigns that ever dialled the customer, those that did since ``since``)."""
        rows = await self._db.fetch(
            "SELECT COUNT(DISTINCT campaign_id),"
            " COUNT(DISTINCT CASE WHEN created_at >= ? THEN campaign_id END)"
            " FROM campaign_attempts WHERE customer_id = ? AND campaign_id != ?"
            " AND state != 'error'", (since, customer_id, campaign_id))
        return int(rows[0][0]), int(rows[0][1])

    # -- do-not-call -----------------------------------------------------------------------

    async def add_dnc(self, campaign_id: str, customer_ids: Iterable[str], reason: str,
                      now: datetime) -> int:
        values = [(campaign_id, cid, reason, now) for cid in customer_ids]

        async def op(tx: Tx) -> int:
            added = 0
            for row in values:
                added += len(await tx.fetch(
                    "INSERT INTO campaign_dnc (campaign_id, customer_id, reason, added_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1", row))
            return added

        return await self._db.write(op)

    async def is_dnc(self, campaign_id: str, customer_id: str) -> bool:
        rows = await self._db.fetch(
            "SELECT 1 FROM campaign_dnc WHERE customer_id = ? AND campaign_id IN (?, ?)",
            (customer_id, campaign_id, ALL_CAMPAIGNS))
        return bool(rows)

    async def list_dnc(self, campaign_id: str) -> list[tuple[str, str | None]]:
        rows = await self._db.fetch(
            "SELECT customer_id, reason FROM campaign_dnc WHERE campaign_id IN (?, ?)"
            " ORDER BY customer_id", (campaign_id, ALL_CAMPAIGNS))
        return [(str(row[0]), row[1]) for row in rows]


SqliteCampaignStore = SqlCampaignStore  # the name the embedded default has always had
