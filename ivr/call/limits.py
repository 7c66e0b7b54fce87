"""Per-call bounds on a media stream (provider-neutral; time is passed in or injected).

* messages per second (counted on the socket, ``ivr.web.telephony_routes``) and caller audio per
  second: token buckets that refill at the allowed rate (audio: real time x slack) and hold a
  burst (audio arriving late after a network stall is accepted up to ``burst_s`` of it);
* audio in one message (``max_frame_ms``);
* keypad digits per second (excess digits are dropped as wire problems);
* malformed messages: too many end the call.

``BoundedChannel`` applies them to any ``MediaChannel``: a breach closes the stream and ends it
with ``StreamEnded(error=<code>)``, which fails that call with the code recorded; other calls
never notice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum

from ivr.telephony.media import (
    AudioIn,
    DigitIn,
    MediaChannel,
    MediaEvent,
    MediaStart,
    StreamEnded,
    WireProblem,
)

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class MediaLimits:
    rate_slack: float = 1.25
    burst_s: float = 5.0
    max_frame_ms: int = 200
    messages_per_s: float = 150.0
    dtmf_per_s: float = 10.0
    max_wire_errors: int = 50


class MediaBudget:
    """One stream's buckets. ``audio_bytes_per_s``: the inbound audio's real-time rate."""

    def __init__(self, limits: MediaLimits, audio_bytes_per_s: float, now: float) -> None:
        self.limits = limits
        self._max_frame = audio_bytes_per_s * limits.max_frame_ms / 1000
        self._audio = TokenBucket.full(audio_bytes_per_s * limits.rate_slack,
                                       audio_bytes_per_s * limits.burst_s, now)
        self._messages = TokenBucket.full(limits.messages_per_s,
                                          limits.messages_per_s * limits.burst_s, now)
        self._dtmf = TokenBucket.full(limits.dtmf_per_s, limits.dtmf_per_s * 2, now)
        self.wire_errors = 0

    def message(self, now: float) -> Breach | None:
        return None if self._messages.take(1, now) else Breach.MESSAGE_RATE

    def audio(self, nbytes: int, now: float) -> Breach | None:
        if nbytes > self._max_frame:
            return Breach.MEDIA_FRAME
        return None if self._audio.take(nbytes, now) else Breach.MEDIA_RATE

    def dtmf(self, now: float) -> bool:
        """False: too many digits too fast (the digit is dropped)."""
        return self._dtmf.take(1, now)

    def wire_error(self) -> Breach | None:
        """Count one malformed message; a breach when there are too many."""
        self.wire_errors += 1
        return Breach.WIRE_ERRORS if self.wire_errors >= self.limits.max_wire_errors else None


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


class BoundedChannel:
    """``inner`` within ``limits`` (inbound audio is PCM16 at the stream's rate)."""

    def __init__(self, inner: MediaChannel, limits: MediaLimits,
                 clock: Callable[[], float] = time.monotonic,
                 on_breach: Callable[[str], None] | None = None) -> None:
        self._inner = inner
        self._limits = limits
        self._clock = clock
        self._on_breach = on_breach
        self._budget: MediaBudget | None = None
        self._call = ""

    @property
    def provider(self) -> str:
        return self._inner.provider

    async def start(self) -> MediaStart:
        start = await self._inner.start()
        self._budget = MediaBudget(self._limits, start.rate * 2, self._clock())
        self._call = start.call_id
        return start

    async def events(self) -> AsyncIterator[MediaEvent]:
        budget = self._budget
        assert budget is not None, "start() first"
        async for event in self._inner.events():
            breach: Breach | None = None
            if isinstance(event, AudioIn):
                breach = budget.audio(len(event.pcm), self._clock())
            elif isinstance(event, DigitIn) and not budget.dtmf(self._clock()):
                event = WireProblem("wire_malformed", "keypad digits too fast")
            if isinstance(event, WireProblem):
                breach = budget.wire_error()
            if breach is not None:
                log.warning("call %s: media stream closed: %s", self._call[:12], breach.value)
                await self._inner.close()
                event = StreamEnded("closed", error=breach.value)
            if isinstance(event, StreamEnded) and event.error and self._on_breach is not None:
                self._on_breach(event.error)
            yield event
            if isinstance(event, StreamEnded):
                return

    async def send_audio(self, pcm: bytes) -> None:
        await self._inner.send_audio(pcm)

    async def clear(self) -> None:
        await self._inner.clear()

    async def close(self) -> None:
        await self._inner.close()
