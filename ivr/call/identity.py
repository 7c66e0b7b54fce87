"""The identity seam: the controller collects the ID digits, the driver asks an
``IdentityVerifier``, and the answer (the message for the dialogue, and whether the caller is
now verified) comes back to the controller as ``IdentityChecked``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from ivr.call.model import CallContext


@dataclass(frozen=True, slots=True)
class IdentityOutcome:
    message: str  # what the dialogue receives instead of the digits
    verified: bool | None = None  # None: the dialogue decides (and says so in its turn)


class IdentityVerifier(Protocol):
    async def verify(self, call: CallContext, digits: str,
                     confidence: float | None) -> IdentityOutcome: ...


class DigitsToDialogue:
    """The dialogue checks the digits itself (through the IVR's internal API)."""

    async def verify(self, call: CallContext, digits: str,
                     confidence: float | None) -> IdentityOutcome:
        return IdentityOutcome("/inform_digits" + json.dumps({"digits": digits}))
