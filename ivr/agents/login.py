"""Dashboard login attempts: back-off per client and per username, trusted browsers, constant
work, and no race between checking the limit and counting the attempt.

Keys an attempt is counted against (``ivr.agents.throttle`` back-off on each):

* from a browser that logged in as this agent before (``ivr.agents.devices``): that browser
  only -- other people's guesses never keep the agent out of their own browser;
* otherwise: the client address *and* the username.

Every attempt costs one password hash (a refused one hashes against a dummy), and at most
``parallel`` hashes run at once; beyond ``max_waiting`` queued attempts the answer is "later".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.agents import devices
from ivr.agents.accounts import AgentDirectory, normalize_username
from ivr.agents.model import Agent
from ivr.agents.passwords import dummy_hash, verify_password
from ivr.agents.throttle import Backoff
from ivr.store.logins import LoginThrottleStore

Clock = Callable[[], datetime]
MAX_USERNAME = 64


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LoginResult:
    agent: Agent | None
    retry_after_s: float = 0.0  # > 0: refused without looking at the password
    device_cookie: str | None = None  # set it in the browser after a success


class LoginGuard:
    def __init__(self, directory: AgentDirectory, store: LoginThrottleStore, device_key: bytes,
                 backoff: Backoff | None = None, clock: Clock = utc_now, parallel: int = 2,
                 max_waiting: int = 16) -> None:
        self._directory = directory
        self._store = store
        self._key = device_key
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._slots = asyncio.Semaphore(parallel)
        self._waiting = 0
        self._max_waiting = max_waiting

    def _keys(self, username: str, client: str, device: str | None) -> tuple[list[str], bool]:
        browser = devices.browser_for(self._key, device, username)
        if browser is not None:
            return [f"browser:{browser}"], True
        return [f"client:{client}", f"user:{username}"], False

    async def attempt(self, username: str, password: str, client: str,
                      device: str | None) -> LoginResult:
        name = normalize_username(username)[:MAX_USERNAME]
        keys, trusted = self._keys(name, client, device)
        if self._waiting >= self._max_waiting:
            return LoginResult(None, self.backoff.base_s)
        self._waiting += 1
        try:
            wait = await self._store.reserve_login(keys, self._clock(), self.backoff)
            async with self._slots:
                if wait > 0:
                    await asyncio.to_thread(verify_password, password, dummy_hash())
                    return LoginResult(None, wait)
                agent = await self._directory.authenticate(name, password)
        finally:
            self._waiting -= 1
        if agent is None:
            return LoginResult(None)  # the attempt was counted by reserve_login
        await self._store.clear_login(keys)
        cookie = device if trusted else devices.issue(self._key, name)
        return LoginResult(agent, device_cookie=cookie)
