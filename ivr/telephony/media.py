"""A call's audio connection, provider-neutral (part of the adapter interface,
``ivr.telephony.provider``): caller audio as PCM16 at the channel's rate, keypad digits, wire
problems and the end of the stream in; PCM16 frames and ``clear`` out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MediaStart:
    """The media stream of ``call_id`` started; audio is PCM16 mono at ``rate`` both ways."""

    call_id: str
    rate: int = 8000
    frame_ms: int = 20
    params: Mapping[str, str] = field(default_factory=dict)
    # How far ahead of real time the provider takes the bot's audio (it buffers that much and
    # drops it on clear): the margin a busy moment of the server has before the caller hears
    # a gap.
    lead_ms: int = 60


@dataclass(frozen=True, slots=True)
class AudioIn:
    """Caller audio: PCM16 mono at the channel's rate (decoded from the provider's codec)."""

    pcm: bytes


@dataclass(frozen=True, slots=True)
class DigitIn:
    digit: str  # one of 0-9 * # A-D


@dataclass(frozen=True, slots=True)
class WireProblem:
    """A message the adapter could not use and skipped (recorded with the call)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """The provider ended the stream (caller hung up, call moved away) or the link broke;
    ``error``: the adapter closed it for misbehaviour (a bound exceeded) — the call fails
    with that code recorded."""

    reason: str = "stop"
    error: str | None = None


MediaEvent = AudioIn | DigitIn | WireProblem | StreamEnded


class MediaChannel(Protocol):
    """One call's audio connection (a Twilio media WebSocket, an AudioSocket TCP stream)."""

    @property
    def provider(self) -> str: ...

    async def start(self) -> MediaStart:
        """Wait for the provider to name the call; raises ``WireError`` when the stream ends
        or misbehaves before that."""
        ...

    def events(self) -> AsyncIterator[MediaEvent]:
        """Everything after ``start`` until ``StreamEnded`` (always the last event)."""
        ...

    async def send_audio(self, pcm: bytes) -> None:
        """Queue one frame of bot audio (PCM16 at ``MediaStart.rate``, ``frame_ms`` long)."""
        ...

    async def clear(self) -> None:
        """Drop bot audio the provider has buffered but not yet played (barge-in)."""
        ...

    async def close(self) -> None:
        """End the stream from our side (idempotent)."""
        ...
