"""Per-call bounds on a media socket (pure; time is passed in).

* messages per second and inbound audio bytes per second: token buckets that refill at the
  allowed rate (audio: real time x slack) and hold a burst (audio arriving late after a network
  stall is accepted up to ``burst_s`` of it);
* audio bytes in one message;
* keypad digits per second;
* malformed messages: counted; only the first few are worth a record, and too many end the call.

Exceeding a bound returns a :class:`Breach` code; the socket closes the call with it recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ivr.config import CallConfig


class Breach(StrEnum):
    MESSAGE_RATE = "media_message_rate"
    MEDIA_RATE = "media_rate"
    MEDIA_FRAME = "media_frame_too_large"
    MESSAGE_SIZE = "media_message_too_large"
    WIRE_ERRORS = "wire_error_flood"
    START_TIMEOUT = "stream_start_timeout"


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


@dataclass(frozen=True, slots=True)
class MediaLimits:
    audio_bytes_per_s: float = 8000.0  # the provider's inbound format (μ-law 8 kHz: 1 B/sample)
    rate_slack: float = 1.25
    burst_s: float = 5.0
    max_payload_bytes: int = 1600
    messages_per_s: float = 150.0
    dtmf_per_s: float = 10.0
    max_wire_errors: int = 50
    recorded_wire_errors: int = 5


def limits_from(call: CallConfig) -> MediaLimits:
    return MediaLimits(rate_slack=call.media_rate_slack, burst_s=call.media_burst_s,
                       max_payload_bytes=call.max_media_payload_bytes,
                       messages_per_s=call.max_messages_per_s,
                       max_wire_errors=call.max_wire_errors)


class MediaBudget:
    def __init__(self, limits: MediaLimits, now: float) -> None:
        self.limits = limits
        rate = limits.audio_bytes_per_s * limits.rate_slack
        self._audio = TokenBucket.full(rate, limits.audio_bytes_per_s * limits.burst_s, now)
        self._messages = TokenBucket.full(limits.messages_per_s,
                                          limits.messages_per_s * limits.burst_s, now)
        self._dtmf = TokenBucket.full(limits.dtmf_per_s, limits.dtmf_per_s * 2, now)
        self.wire_errors = 0

    def message(self, now: float) -> Breach | None:
        return None if self._messages.take(1, now) else Breach.MESSAGE_RATE

    def audio(self, nbytes: int, now: float) -> Breach | None:
        if nbytes > self.limits.max_payload_bytes:
            return Breach.MEDIA_FRAME
        return None if self._audio.take(nbytes, now) else Breach.MEDIA_RATE

    def dtmf(self, now: float) -> bool:
        """False: too many digits too fast (the digit is dropped)."""
        return self._dtmf.take(1, now)

    def wire_error(self) -> tuple[bool, Breach | None]:
        """Count one malformed message: (worth a record?, breach when there are too many)."""
        self.wire_errors += 1
        record = self.wire_errors <= self.limits.recorded_wire_errors
        too_many = self.wire_errors >= self.limits.max_wire_errors
        return record, Breach.WIRE_ERRORS if too_many else None


class SocketGate:
    """At most ``limit`` media sockets open at once (with or without a call)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def enter(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open = max(0, self.open - 1)
