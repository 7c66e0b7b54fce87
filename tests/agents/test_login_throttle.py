"""Login back-off (pure), trusted-browser cookies, and the store's atomic reservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ivr.agents import devices
from ivr.agents.throttle import Backoff, KeyState, after_attempt, wait_s
from ivr.store.agents import SqliteAgentStore

T0 = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
B = Backoff(base_s=1, max_s=60)


def test_delays_double_up_to_the_maximum() -> None:
    assert [B.delay(n) for n in range(9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert B.delay(10_000) == 60


def test_wait_counts_from_the_last_failure_and_is_forgotten_later() -> None:
    state = KeyState(3, T0)
    assert wait_s(state, T0, B) == 4
    assert wait_s(state, T0 + timedelta(seconds=3), B) == 1
    assert wait_s(state, T0 + timedelta(seconds=4), B) == 0
    assert wait_s(None, T0, B) == 0
    assert after_attempt(state, T0 + timedelta(seconds=5), B).failures == 4
    assert after_attempt(state, T0 + timedelta(seconds=121), B).failures == 1


async def test_reservation_counts_before_the_check(tmp_path: Path) -> None:
    async with await SqliteAgentStore.open(tmp_path / "db") as store:
        keys = ["client:a", "user:amy"]
        assert await store.reserve_login(keys, T0, B) == 0
        assert await store.reserve_login(keys, T0, B) == 1  # the first is still counted
        assert await store.reserve_login(["client:b", "user:amy"], T0, B) == 1
        assert await store.reserve_login(["client:b", "user:bob"], T0, B) == 0
        await store.clear_login(keys)
        assert await store.reserve_login(keys, T0, B) == 0


def test_device_cookie_names_one_agent_and_is_signed() -> None:
    key = b"k" * 32
    cookie = devices.issue(key, "amy")
    browser = devices.browser_for(key, cookie, "amy")
    assert browser is not None and browser in cookie
    assert devices.browser_for(key, cookie, "ben") is None
    assert devices.browser_for(b"other" * 8, cookie, "amy") is None
    name, browser, mac = cookie.split(".")
    assert devices.browser_for(key, f"{name}.{browser}x.{mac}", "amy") is None
    for junk in (None, "", "a.b", "!!.x.y", "a" * 400):
        assert devices.browser_for(key, junk, "amy") is None
