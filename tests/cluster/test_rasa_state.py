"""Rasa's shared tracker and lock stores in endpoints.yml, and idle-conversation expiry."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import yaml

from ivr.cluster.rasa_state import expire_conversations, rasa_state, tracker_url
from ivr.cluster.services import LocalPostgres
from ivr.config import ClusterConfig, Config, RasaConfig, StoreConfig


def test_single_worker_on_sqlite_adds_nothing() -> None:
    state = rasa_state(Config())
    assert (state.yaml, state.env, state.tracker_url) == ("", {}, "")


def test_tracker_on_the_store_server_and_lock_in_redis() -> None:
    config = Config(store=StoreConfig(url="postgresql://ivr:s3cret@db.internal:5433/ivr"),
                    cluster=ClusterConfig(redis_url="redis://:r3dis@cache.internal:6380/2"))
    state = rasa_state(config)
    endpoints = yaml.safe_load(state.yaml)
    assert endpoints["tracker_store"] == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 5433,
        "db": "ivr_rasa", "login_db": "ivr", "username": "ivr",
        "password": "${IVR_RASA_TRACKER_PASSWORD}"}
    assert endpoints["lock_store"] == {
        "type": "redis", "url": "cache.internal", "port": 6380, "db": 2, "key_prefix": "ivr",
        "use_ssl": False, "password": "${IVR_RASA_LOCK_PASSWORD}"}
    assert "s3cret" not in state.yaml and "r3dis" not in state.yaml  # by environment only
    assert state.env == {"IVR_RASA_TRACKER_PASSWORD": "s3cret",
                         "IVR_RASA_LOCK_PASSWORD": "r3dis"}
    named = Config(store=config.store, rasa=RasaConfig(tracker_db="conversations"))
    assert tracker_url(named) == "postgresql://ivr:s3cret@db.internal:5433/conversations"


async def test_idle_conversations_expire(pg_server: LocalPostgres) -> None:
    # its own database, as in production: the IVR's database has an `events` table too
    pg_url = await asyncio.to_thread(pg_server.ensure_database, f"rasa_{uuid.uuid4().hex[:8]}")
    conn = await asyncpg.connect(pg_url)
    try:
        assert await expire_conversations(pg_url, 60, now=1000.0) == 0  # no table yet
        await conn.execute("CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id TEXT,"
                           " type_name TEXT, timestamp DOUBLE PRECISION, data TEXT)")
        rows = [("old", 100.0), ("old", 900.0), ("new", 500.0), ("new", 950.0)]
        await conn.executemany("INSERT INTO events (sender_id, type_name, timestamp)"
                               " VALUES ($1, 'user', $2)", rows)
        assert await expire_conversations(pg_url, 60, now=1000.0) == 1  # idle since 900
        left = await conn.fetch("SELECT DISTINCT sender_id FROM events")
        assert [r[0] for r in left] == ["new"]
    finally:
        await conn.close()
