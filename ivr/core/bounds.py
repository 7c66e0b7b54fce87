"""Provider-neutral bound primitives shared by the call layer (``ivr.call.limits``) and the
adapters that bound their own sockets (AudioSocket): the breach codes a call fails with, and a
token bucket with the time passed in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Breach(StrEnum):
    MESSAGE_RATE = "media_message_rate"
    MEDIA_RATE = "media_rate"
    MEDIA_FRAME = "media_frame_too_large"
    MESSAGE_SIZE = "media_message_too_large"
    WIRE_ERRORS = "wire_error_flood"


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    last: float

    @classmethod
    def full(cls, rate: float, capacity: float, now: float) -> TokenBucket:
        return cls(rate, capacity, capacity, now)

    def take(self, amount: float, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.last) * self.rate)
        self.last = now
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True
