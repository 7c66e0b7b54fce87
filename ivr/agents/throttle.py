"""Exponential back-off for dashboard logins (pure; time passed in).

After ``n`` failures counted against a key (a client address, a username, a trusted browser)
the next attempt on that key must wait ``base * 2^(n-1)`` seconds, at most ``max``. A key left
alone for twice the maximum is forgotten. Nothing locks: every wait ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Backoff:
    base_s: float = 1.0
    max_s: float = 900.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(failures - 1, 62))

    def forget_after(self) -> timedelta:
        return timedelta(seconds=2 * self.max_s)


@dataclass(frozen=True, slots=True)
class KeyState:
    failures: int
    last_at: datetime


def wait_s(state: KeyState | None, now: datetime, backoff: Backoff) -> float:
    """Seconds until ``state``'s key may try again (0: now)."""
    if state is None or now - state.last_at > backoff.forget_after():
        return 0.0
    ready = state.last_at + timedelta(seconds=backoff.delay(state.failures))
    return max(0.0, (ready - now).total_seconds())


def after_attempt(state: KeyState | None, now: datetime, backoff: Backoff) -> KeyState:
    """The key's state once an attempt is counted (before its result is known)."""
    failures = 0 if state is None or now - state.last_at > backoff.forget_after() \
        else state.failures
    return KeyState(failures + 1, now)
