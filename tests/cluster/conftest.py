"""Cluster pieces against the real Redis of the test harness and a shared store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ivr.cluster.bus import Bus
from ivr.store.factory import Stores, StoreTarget, open_stores


@pytest.fixture
async def bus_factory(redis_url: str) -> AsyncIterator[Callable[[], Bus]]:
    made: list[Bus] = []

    def make() -> Bus:
        bus = Bus.from_url(redis_url, prefix="t")
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


@pytest.fixture
async def shared(tmp_path: Path) -> AsyncIterator[Callable[[], Stores]]:
    """Each call: another worker's stores on the same database file."""
    opened: list[Stores] = []

    async def make() -> Stores:
        stores = await open_stores(StoreTarget.parse(tmp_path / "ivr.sqlite3"))
        opened.append(stores)
        return stores

    yield make  # type: ignore[misc]
    for stores in opened:
        await stores.close()
