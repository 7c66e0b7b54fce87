"""Two workers' dialers on one database: each dials only as many calls as it has room for,
and no customer is dialled twice."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from ivr.campaigns import admin
from ivr.campaigns.model import AttemptState
from tests.campaigns.helpers import FakeClock, FakeControl, customer, fast_policy, harness


async def test_dialers_spread_over_workers_with_capacity(tmp_path: Path) -> None:
    clock = FakeClock()
    a_control, b_control = FakeControl(), FakeControl()
    async with harness(tmp_path, a_control, clock=clock) as a, \
            harness(tmp_path, b_control, clock=clock) as b:
        free = {"A": 3, "B": 2}
        for h, name in ((a, "A"), (b, "B")):
            # each worker dials through its own control, whose URLs lead back to it
            h.ctx.settings = dataclasses.replace(h.ctx.settings, worker=name)

            async def capacity(name: str = name) -> int:
                return free[name]

            h.ctx.capacity = capacity
        ids = [f"c{i:02d}" for i in range(12)]
        await a.customers.upsert_customers([customer(cid) for cid in ids])
        await admin.create(a.ctx, "c", campaign_id="c1",
                           policy=fast_policy(max_concurrent=10).to_json())
        await admin.import_targets(a.ctx, "c1", ids)
        await admin.start(a.ctx, "c1")

        await asyncio.gather(a.service.tick(), b.service.tick())
        await asyncio.gather(a.service.dialer.drain(), b.service.dialer.drain())

        assert (len(a_control.placed), len(b_control.placed)) == (3, 2)
        dialled = [p["to"] for p in a_control.placed + b_control.placed]
        assert len(set(dialled)) == 5  # nobody twice
        attempts = await a.store.list_attempts("c1")
        assert sorted(at.worker for at in attempts) == ["A", "A", "A", "B", "B"]
        assert all(at.state is AttemptState.INITIATED for at in attempts)
        # no leases left behind: the rest is due for whoever has room next
        assert len(await a.store.due_targets("c1", clock(), 20)) == 7

        free["A"] = 0  # A is full: B takes the next calls
        free["B"] = 4
        await asyncio.gather(a.service.tick(), b.service.tick())
        await asyncio.gather(a.service.dialer.drain(), b.service.dialer.drain())
        assert (len(a_control.placed), len(b_control.placed)) == (3, 6)
        dialled = [p["to"] for p in a_control.placed + b_control.placed]
        assert len(set(dialled)) == 9
