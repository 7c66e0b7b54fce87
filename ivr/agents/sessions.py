"""Dashboard login sessions, kept in the store (the login back-off is ``ivr.agents.login``).

The browser holds a random 32-byte token; the store keeps only its SHA-256, so a copy of the
database does not let anyone in. Each session has its own CSRF token. A session ends after
``idle_s`` without use or ``max_age_s`` after login, whichever comes first.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ivr.agents.model import Agent
from ivr.store.agents import SqliteAgentStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle_s: float = 30 * 60
    max_age_s: float = 12 * 3600


@dataclass(frozen=True, slots=True)
class LiveSession:
    agent: Agent
    csrf: str
    token_hash: str


class DashboardSessions:
    def __init__(self, store: SqliteAgentStore, policy: SessionPolicy | None = None,
                 clock: Clock = utc_now) -> None:
        self._store = store
        self.policy = policy or SessionPolicy()
        self._clock = clock

    async def start(self, agent: Agent) -> tuple[str, LiveSession]:
        """A new session for ``agent``: (cookie token, session)."""
        token = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
        csrf = secrets.token_urlsafe(32)
        hashed = token_hash(token)
        await self._store.add_session(hashed, agent.id, csrf, self._clock())
        return token, LiveSession(agent, csrf, hashed)

    async def resume(self, token: str) -> LiveSession | None:
        """The live session for ``token`` (its idle timer restarted), or None."""
        if not token or len(token) > 128:
            return None
        now = self._clock()
        hashed = token_hash(token)
        found = await self._store.touch_session(
            hashed, now, now - timedelta(seconds=self.policy.idle_s),
            now - timedelta(seconds=self.policy.max_age_s))
        if found is None:
            return None
        agent = await self._store.get_agent(found[0])
        return None if agent is None else LiveSession(agent, found[1], hashed)

    async def end(self, session: LiveSession) -> None:
        await self._store.delete_session(session.token_hash)
