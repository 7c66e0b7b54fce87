"""Provider-neutral types the Asterisk adapter speaks.

A copy of the engine's adapter interface (``ivr.telephony.provider`` on the engine branch) until
that module is on this branch; then this module only re-exports it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True, slots=True, repr=False)
class CallIdentity:
    """A call as its provider announced it.

    ``call_id`` is the provider's id of the call (unique per provider). ``params`` are the
    values the IVR itself attached when it placed or routed the call (e.g. the customer and
    campaign of an outbound attempt); an adapter passes them back unchanged and never fills
    them from caller-controlled input.
    """

    provider: str
    call_id: str
    direction: CallDirection = CallDirection.INBOUND
    from_number: str = ""
    to_number: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # numbers stay out of logs
        return (f"CallIdentity(provider={self.provider!r}, call_id={self.call_id[:12]!r}, "
                f"direction={self.direction.value!r})")


@dataclass(frozen=True, slots=True)
class Admission:
    """The IVR's answer to an arriving call.

    Accepted: connect the media and hand ``stream_params`` back at ``MediaStart`` (they carry
    the one-time binding of the stream to this call). Refused: play ``refusal_audio_url`` (an
    8 kHz WAV the IVR serves; adapters without URL playback may play their own) and hang up.
    """

    accepted: bool
    language: str
    stream_params: Mapping[str, str] = field(default_factory=dict)
    refusal_reason: str = ""
    refusal_audio_url: str = ""


class CallProgress(StrEnum):
    """Where an (usually outbound) call is, in provider-neutral terms."""

    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"


class AnsweredBy(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"  # answering machine, voicemail or fax
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CallStatusUpdate:
    call_id: str
    progress: CallProgress
    raw_status: str = ""  # the provider's own word, for the event log only
    answered_by: AnsweredBy | None = None
    duration_s: int | None = None
    attempt_id: str | None = None  # the campaign attempt the IVR attached when dialling
    sequence: int | None = None  # provider ordering, when it has one (replay detection)


# ---- media ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaStart:
    """The media stream of ``call_id`` started; audio is PCM16 mono at ``rate`` both ways."""

    call_id: str
    rate: int = 8000
    frame_ms: int = 20
    params: Mapping[str, str] = field(default_factory=dict)


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
    """The provider ended the stream (caller hung up, call moved away) or the link broke."""

    reason: str = "stop"


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


# ---- what the IVR offers an adapter -----------------------------------------------------


class CallSink(Protocol):
    """The IVR side of every adapter (implemented by the call hub, wired in ``ivr.app``)."""

    async def call_arrived(self, identity: CallIdentity) -> Admission: ...

    async def call_status(self, provider: str, update: CallStatusUpdate) -> None: ...

    async def media_connected(self, channel: MediaChannel) -> None:
        """Run the call on this channel until it ends (returns when the call is over)."""
        ...


# ---- call control -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class OutboundCall:
    """A call the IVR places; ``params`` come back in the arrival's ``CallIdentity.params``
    and in status updates (the adapter carries them: answer-URL query, channel variables)."""

    to: str
    from_: str
    params: Mapping[str, str] = field(default_factory=dict)
    machine_detection: bool = False

    def __repr__(self) -> str:
        return f"OutboundCall(params={sorted(self.params)!r})"
