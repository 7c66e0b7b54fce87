"""Heartbeats with capacity, death detection and a take-over that runs once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ivr.cluster.bus import Bus
from ivr.cluster.members import Membership, WorkerStatus


def _member(bus: Bus, name: str, dead: list[str], active: int = 0) -> Membership:
    async def on_dead(worker: str) -> None:
        await asyncio.sleep(0)  # another sweeper may run meanwhile
        dead.append(f"{name}<-{worker}")

    return Membership(bus, name, lambda: WorkerStatus(name, f"http://{name}", 10, active),
                      heartbeat_s=1.0, dead_after_s=5.0, on_dead=on_dead, clock=lambda: 42.0)


async def test_heartbeat_advertises_capacity_with_a_ttl(bus_factory: Callable[[], Bus]) -> None:
    bus = bus_factory()
    taken: list[str] = []
    a, b = _member(bus, "A", taken, active=3), _member(bus, "B", taken, active=10)
    await a.beat()
    await b.beat()
    workers = await a.workers()
    assert [(w.worker, w.url, w.free, w.at) for w in workers] == [
        ("A", "http://A", 7, 42.0), ("B", "http://B", 0, 42.0)]
    ttl = await bus.redis.pttl(bus.key("worker", "A"))
    assert 0 < ttl <= 5000
    assert await a.dead() == [] and await a.sweep() == []


async def test_a_dead_worker_is_taken_over_once(bus_factory: Callable[[], Bus]) -> None:
    taken: list[str] = []
    a, b, c = (_member(bus_factory(), n, taken) for n in "ABC")
    for member in (a, b, c):
        await member.beat()
    # B's heartbeat expires (as after a crash): what a missed TTL leaves behind
    await b.bus.redis.delete(b.bus.key("worker", "B"))
    assert await a.dead() == ["B"]
    results = await asyncio.gather(a.sweep(), c.sweep())
    assert sorted(w for r in results for w in r) == ["B"]
    assert len(taken) == 1 and taken[0].endswith("<-B")
    assert await a.dead() == [] and [w.worker for w in await a.workers()] == ["A", "C"]


async def test_a_worker_that_leaves_is_noticed_at_once(bus_factory: Callable[[], Bus]) -> None:
    taken: list[str] = []
    a, b = _member(bus_factory(), "A", taken), _member(bus_factory(), "B", taken)
    await a.beat()
    await b.start()
    await b.leave()
    assert await a.sweep() == ["B"] and taken == ["A<-B"]


async def test_a_worker_back_in_time_is_not_taken_over(bus_factory: Callable[[], Bus]) -> None:
    taken: list[str] = []
    a, b = _member(bus_factory(), "A", taken), _member(bus_factory(), "B", taken)
    await a.beat()
    await b.beat()
    await b.bus.redis.delete(b.bus.key("worker", "B"))
    await b.beat()  # it was only late
    assert await a.sweep() == [] and taken == []
