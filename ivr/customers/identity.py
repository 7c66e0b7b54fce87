"""The ID check, decided by the IVR (pure; time passed in).

At the ID question the caller's answer -- keyed (``*`` = X) or spoken, collected by the call
controller -- never goes to the dialogue. The IVR compares it with the stored keyed hash
(``ivr.call.id_check``) and sends only the outcome: ``/id_result{"result": ..., "attempts_left":
n}`` with result ``verified`` | ``mismatch`` | ``locked`` | ``incomplete``.

Failures count per customer across calls: ``max_failures`` within ``cooldown_s`` lock the check
for ``cooldown_s`` (while locked, no answer is compared, right or wrong). An answer that is not
four characters, or spoken with low recognizer confidence, is ``incomplete`` and not counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ivr.customers.model import IdLock

MASKED = "[****]"  # what the transcript shows for an answer to the ID question


class IdOutcome(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class IdPolicy:
    max_failures: int = 2
    cooldown_s: float = 3600.0
    min_confidence: float = 0.5


@dataclass(frozen=True, slots=True)
class IdVerdict:
    outcome: IdOutcome
    attempts_left: int
    newly_locked: bool = False

    def message(self) -> str:
        """What the dialogue receives instead of the digits."""
        body = {"result": self.outcome.value, "attempts_left": self.attempts_left}
        return "/id_result" + json.dumps(body, separators=(",", ":"))


def decide(lock: IdLock, ok: bool, now: datetime, policy: IdPolicy) -> tuple[IdLock, IdVerdict]:
    """The customer's new failure state and the verdict for one complete answer."""
    if lock.locked_until is not None and now < lock.locked_until:
        return lock, IdVerdict(IdOutcome.LOCKED, 0)
    window = timedelta(seconds=policy.cooldown_s)
    recent = lock.last_failure_at is not None and now - lock.last_failure_at <= window
    failures = lock.failures if recent and lock.locked_until is None else 0
    if ok:
        return IdLock(), IdVerdict(IdOutcome.VERIFIED, policy.max_failures)
    failures += 1
    if failures >= policy.max_failures:
        return IdLock(failures, now, now + window), IdVerdict(IdOutcome.LOCKED, 0, True)
    return IdLock(failures, now), IdVerdict(IdOutcome.MISMATCH, policy.max_failures - failures)


def well_formed(given: str) -> bool:
    """Four characters: digits, the last one may be X."""
    return len(given) == 4 and given[:3].isdigit() and (given[3].isdigit() or given[3] == "X")
