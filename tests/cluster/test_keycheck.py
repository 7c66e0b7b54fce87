"""A worker with another server key than the cluster's refuses to start (real Redis)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ivr.cluster.bus import Bus
from ivr.cluster.keycheck import check_same_key, key_fingerprint
from ivr.core.errors import ConfigError

KEY, OTHER = b"k" * 32, b"o" * 32


async def test_workers_with_the_same_key_start_and_another_key_is_refused(
        bus_factory: Callable[[], Bus]) -> None:
    first, second, stranger = bus_factory(), bus_factory(), bus_factory()
    await check_same_key(first, KEY)
    await check_same_key(second, KEY)  # the same key: fine
    with pytest.raises(ConfigError, match=r"server\.secret_key"):
        await check_same_key(stranger, OTHER)
    stored = await first.redis.get(first.key("server-key-fingerprint"))
    assert stored == key_fingerprint(KEY) != key_fingerprint(OTHER)
    assert KEY.hex() not in str(stored) and len(str(stored)) == 16
