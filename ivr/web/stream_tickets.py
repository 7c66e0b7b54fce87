"""Binds each media stream to the signed voice webhook of its call.

The voice webhook (signed by the provider) decides who the call is -- customer, language,
campaign -- and issues a one-time, short-lived, random token for that call. The token travels
in the TwiML ``<Stream>`` as a ``<Parameter>`` and comes back in the ``start`` message; the
stream is admitted only with the token of *that* call sid, once, before it expires. What the
call is comes from the ticket, never from what the ``start`` message says about itself.

In memory: a stream reaches the worker that answered its webhook. Bounded: at most
``capacity`` live tickets (the oldest is dropped first); expired ones are swept on issue.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ivr.core.types import Language

TOKEN_PARAMETER = "stream_token"


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the voice webhook established about a call."""

    call_sid: str
    language: Language
    customer_id: str | None = None
    outbound: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


class TicketProblem(StrEnum):
    MISSING = "stream_token_missing"
    UNKNOWN = "stream_token_unknown"  # no ticket for this call (never issued, used, dropped)
    WRONG = "stream_token_wrong"
    EXPIRED = "stream_token_expired"


class TicketError(Exception):
    def __init__(self, problem: TicketProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class _Ticket:
    digest: bytes
    expires: float
    context: CallContext


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


class StreamTickets:
    def __init__(self, ttl_s: float = 30.0, capacity: int = 1000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s <= 0 or capacity < 1:
            raise ValueError("ttl_s and capacity must be positive")
        self._ttl = ttl_s
        self._capacity = capacity
        self._clock = clock
        self._tickets: OrderedDict[str, _Ticket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tickets)

    def issue(self, context: CallContext) -> str:
        """A fresh token for ``context.call_sid`` (an earlier one for that call is revoked)."""
        now = self._clock()
        self._sweep(now)
        token = secrets.token_urlsafe(32)
        self._tickets.pop(context.call_sid, None)
        self._tickets[context.call_sid] = _Ticket(_digest(token), now + self._ttl, context)
        while len(self._tickets) > self._capacity:
            self._tickets.popitem(last=False)
        return token

    def consume(self, call_sid: str, token: str | None) -> CallContext:
        """The call's context; the ticket is used up. Raises :class:`TicketError`."""
        if not token:
            raise TicketError(TicketProblem.MISSING)
        ticket = self._tickets.get(call_sid)
        if ticket is None:
            raise TicketError(TicketProblem.UNKNOWN)
        if not hmac.compare_digest(ticket.digest, _digest(token)):
            raise TicketError(TicketProblem.WRONG)
        del self._tickets[call_sid]
        if self._clock() > ticket.expires:
            raise TicketError(TicketProblem.EXPIRED)
        return ticket.context

    def _sweep(self, now: float) -> None:
        for sid in [sid for sid, t in self._tickets.items() if t.expires < now]:
            del self._tickets[sid]
