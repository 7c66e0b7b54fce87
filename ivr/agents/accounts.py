"""Agent accounts: who may log in to the dashboard, what they speak, where calls go."""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from ivr.agents.model import Agent, Presence, Role
from ivr.agents.passwords import check_strength, dummy_hash, hash_password, verify_password
from ivr.agents.sessions import DashboardSessions, SessionPolicy
from ivr.core.types import Language
from ivr.store.protocols import AgentStore
from ivr.telephony.base import TransferKind, TransferTarget

__all__ = ["Agent", "AgentDirectory", "Presence", "Role", "normalize_username"]

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,63}$")
MAX_DISPLAY_NAME = 80
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _validated(username: str, display_name: str, role: Role | str,
               languages: Iterable[Language | str], presence: Presence | str,
               target: TransferTarget) -> Agent:
    name = normalize_username(username)
    if not USERNAME.match(name):
        raise ValueError("username must be 1..64 of a-z 0-9 _ . @ - (starting with a letter "
                         "or digit)")
    display = display_name.strip()
    if not 0 < len(display) <= MAX_DISPLAY_NAME:
        raise ValueError(f"display name must be 1..{MAX_DISPLAY_NAME} characters")
    langs = tuple(dict.fromkeys(Language(lang) for lang in languages))
    if not langs:
        raise ValueError("an agent needs at least one language")
    return Agent(id=0, username=name, display_name=display, role=Role(role), languages=langs,
                 presence=Presence(presence), transfer_kind=TransferKind(target.kind),
                 transfer_address=target.address)


class AgentDirectory:
    """Agents over the store. Password hashing runs in a worker thread (scrypt is slow)."""

    def __init__(self, store: AgentStore, clock: Clock = utc_now,
                 session_policy: SessionPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self.sessions = DashboardSessions(store, session_policy, clock)

    async def add(self, username: str, password: str, *, display_name: str,
                  target: TransferTarget, languages: Iterable[Language | str],
                  role: Role | str = Role.AGENT,
                  presence: Presence | str = Presence.AWAY) -> Agent:
        """Create an account; ValueError for invalid fields, StoreError if it exists."""
        agent = _validated(username, display_name, role, languages, presence, target)
        check_strength(password)
        hashed = await asyncio.to_thread(hash_password, password)
        return await self._store.add_agent(agent, hashed, self._clock())

    async def get(self, agent_id: int) -> Agent | None:
        return await self._store.get_agent(agent_id)

    async def by_username(self, username: str) -> Agent | None:
        found = await self._store.agent_login(normalize_username(username))
        return None if found is None else found[0]

    async def authenticate(self, username: str, password: str) -> Agent | None:
        found = await self._store.agent_login(normalize_username(username))
        stored = dummy_hash() if found is None else found[1]
        ok = await asyncio.to_thread(verify_password, password, stored)
        return found[0] if ok and found is not None else None

    async def set_presence(self, agent_id: int, presence: Presence | str) -> Agent | None:
        return await self._store.set_presence(agent_id, Presence(presence), self._clock())

    async def list(self) -> builtins.list[Agent]:
        return await self._store.list_agents()

    async def available_for(self, language: Language | str) -> builtins.list[Agent]:
        """Available agents who speak ``language``, by username."""
        return [a for a in await self._store.list_agents()
                if a.presence is Presence.AVAILABLE and a.speaks(language)]
