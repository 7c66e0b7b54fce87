"""Rasa's shared state for several workers: the SQL tracker store on the store's PostgreSQL
server (its own database) and the Redis lock store, so any Rasa instance continues any
conversation and two instances never process one conversation at once; and the expiry of
idle conversations (Rasa 3.6's SQL tracker store keeps every event forever; a new session
after ``session_expiration_time`` still keeps the old one).

Passwords reach Rasa through environment variables that its ``endpoints.yml`` names
(``${IVR_RASA_TRACKER_PASSWORD}``), never written to the file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from ivr.config import Config

log = logging.getLogger(__name__)
EXPIRY_LOCK = 0x1F5C_0A12  # advisory lock: one worker expires conversations at a time


@dataclass(frozen=True)
class RasaState:
    """What ``endpoints.yml`` gains, and the environment Rasa needs for it."""

    yaml: str = ""
    env: dict[str, str] = field(default_factory=dict)
    tracker_url: str = ""  # postgresql:// URL of the tracker database (for expiry)


def tracker_url(config: Config) -> str:
    """The tracker database's URL on the store's server ("" when the store is SQLite)."""
    store = urlsplit(config.store.url)
    if store.scheme not in ("postgresql", "postgres"):
        return ""
    name = config.rasa.tracker_db or f"{store.path.lstrip('/') or 'postgres'}_rasa"
    return urlunsplit(store._replace(path=f"/{name}"))


def rasa_state(config: Config) -> RasaState:
    lines: list[str] = []
    env: dict[str, str] = {}
    url = tracker_url(config)
    if url:
        store, tracker = urlsplit(config.store.url), urlsplit(url)
        lines += ["tracker_store:", "  type: SQL", "  dialect: postgresql",
                  f"  url: \"{store.hostname}\"", f"  port: {store.port or 5432}",
                  f"  db: \"{tracker.path.lstrip('/')}\"",
                  f"  login_db: \"{store.path.lstrip('/') or 'postgres'}\""]
        if store.username:
            lines.append(f"  username: \"{unquote(store.username)}\"")
        if store.password:
            lines.append("  password: ${IVR_RASA_TRACKER_PASSWORD}")
            env["IVR_RASA_TRACKER_PASSWORD"] = unquote(store.password)
    redis = urlsplit(config.cluster.redis_url)
    if redis.scheme in ("redis", "rediss"):
        db = redis.path.lstrip("/") or "0"
        lines += ["lock_store:", "  type: redis", f"  url: \"{redis.hostname}\"",
                  f"  port: {redis.port or 6379}", f"  db: {int(db)}",
                  "  key_prefix: \"ivr\"", f"  use_ssl: {str(redis.scheme == 'rediss').lower()}"]
        if redis.password:
            lines.append("  password: ${IVR_RASA_LOCK_PASSWORD}")
            env["IVR_RASA_LOCK_PASSWORD"] = unquote(redis.password)
    return RasaState("\n".join(lines) + ("\n" if lines else ""), env, url)


async def expire_conversations(url: str, ttl_s: float, now: float | None = None) -> int:
    """Delete every event of the conversations idle for ``ttl_s``; return how many
    conversations went. Nothing when another worker is doing it or Rasa has not created its
    table yet."""
    cutoff = (time.time() if now is None else now) - ttl_s
    conn = await asyncpg.connect(url, timeout=10)
    try:
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", EXPIRY_LOCK):
                return 0
            if await conn.fetchval("SELECT to_regclass('public.events')") is None:
                return 0
            gone = await conn.fetchval(
                "WITH gone AS (DELETE FROM events WHERE sender_id IN (SELECT sender_id"
                " FROM events GROUP BY sender_id HAVING MAX(timestamp) < $1)"
                " RETURNING sender_id) SELECT COUNT(DISTINCT sender_id) FROM gone", cutoff)
    finally:
        await conn.close()
    return int(gone)
