"""Taking over a dead worker: its live calls end failed, its queued callers get callbacks,
its in-flight dials become unknown (never redialled); the others' work is left alone."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from ivr.agents.queue import AgentQueue, QueueStatus
from ivr.campaigns import admin
from ivr.campaigns.model import AttemptState, TargetState
from ivr.cluster.recovery import take_over
from ivr.core.types import CallOutcome, Priority
from ivr.customers.model import FollowUpKind
from ivr.customers.service import CustomerService
from ivr.store.agents import SqliteAgentStore
from ivr.store.records import CallRecord
from tests.campaigns.helpers import customer, fast_policy, harness


async def test_take_over_ends_only_the_dead_workers_work(tmp_path: Path) -> None:
    async with harness(tmp_path) as h, \
            await SqliteAgentStore.open(tmp_path / "ivr.sqlite3") as agents:
        now = h.clock()
        for sid, worker in (("CA-b1", "B"), ("CA-b2", "B"), ("CA-a1", "A")):
            await h.calls.create_call(CallRecord(call_sid=sid, worker=worker, started_at=now))
        await h.calls.update_call("CA-b2", ended_at=now, outcome=CallOutcome.COMPLETED)
        on_b, on_a = AgentQueue(agents, worker="B"), AgentQueue(agents, worker="A")
        await on_b.enqueue("CA-b1", "agent_request", Priority.NORMAL, "zh",
                           {"customer": {"customer_id": "c1"}})
        await on_a.enqueue("CA-a1", "agent_request", Priority.NORMAL, "zh", {})
        await h.customers.upsert_customers([customer(f"c{n}") for n in range(1, 5)])
        await admin.create(h.ctx, "c", campaign_id="c1", policy=fast_policy().to_json())
        await admin.import_targets(h.ctx, "c1", ["c1", "c2", "c3", "c4"])
        due = await h.store.due_targets("c1", now, 5)
        assert await h.store.begin_attempt(due[0], "at-b", now, "B") is not None
        assert await h.store.begin_attempt(due[1], "at-a", now, "A") is not None
        # B placed two calls: one's media is on B (lost with it), the other's landed on A
        for target, attempt_id, sid in ((due[2], "at-b-on-b", "CA-b1"),
                                        (due[3], "at-b-on-a", "CA-a1")):
            assert await h.store.begin_attempt(target, attempt_id, now, "B") is not None
            await h.store.update_attempt(attempt_id, call_sid=sid,
                                         state=AttemptState.IN_PROGRESS)
        customers = CustomerService(h.customers)
        h.ctx.settings = dataclasses.replace(h.ctx.settings, worker="A")

        reports = await asyncio.gather(*(
            take_over("B", calls=h.calls, queue=on_a, customers=customers,
                      campaigns=h.service, clock=h.clock) for _ in range(2)))

        assert sorted(sid for r in reports for sid in r.calls_ended) == ["CA-b1", "CA-b1"]
        lost = await h.calls.get_call("CA-b1")
        assert lost is not None and lost.outcome is CallOutcome.FAILED
        assert lost.error_code == "worker_lost" and lost.ended_at == now
        kept = await h.calls.get_call("CA-b2")
        assert kept is not None and kept.outcome is CallOutcome.COMPLETED
        assert await h.calls.live_calls("A") != []
        assert [cb for r in reports for cb in r.callbacks] == ["CA-b1"]  # booked once
        followups = await h.customers.list_followups(call_sid="CA-b1")
        assert [(f.kind, f.customer_id) for f in followups] == [(FollowUpKind.CALLBACK, "c1")]
        assert [e.status for e in await on_a.entries_for_call("CA-a1")] == [
            QueueStatus.WAITING]
        assert sum(r.dials_unknown for r in reports) == 2
        states = {a.id: a.state for a in await h.store.list_attempts("c1")}
        assert states == {"at-b": AttemptState.UNKNOWN, "at-a": AttemptState.DIALING,
                          "at-b-on-b": AttemptState.UNKNOWN,
                          "at-b-on-a": AttemptState.IN_PROGRESS}
        b_dial = await h.store.get_attempt("at-b")
        assert b_dial is not None
        target = await h.store.get_target("c1", b_dial.customer_id)
        assert target is not None and target.state is TargetState.UNKNOWN
