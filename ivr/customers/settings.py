"""The ``[identity]`` config section (read by ``ivr.config`` like every other section): the
IVR's own ID check (``ivr.customers.identity``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdentityConfig:
    # Failed ID checks per customer (across calls) before the check is locked for cooldown_s.
    max_failures: int = 2
    cooldown_s: float = 3600.0
    # Spoken digits whose mean recognizer confidence is below this are asked again (not counted).
    min_confidence: float = 0.5

    def problem(self) -> str | None:
        """What is wrong, naming the setting; None when valid."""
        if self.max_failures < 1 or self.cooldown_s <= 0:
            return "identity.max_failures / identity.cooldown_s: must be positive"
        if not 0 <= self.min_confidence <= 1:
            return "identity.min_confidence: must be 0..1"
        return None
