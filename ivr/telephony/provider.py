"""The provider adapter interface: what the rest of the IVR knows about a telephony provider.

A provider adapter (one package per provider under ``ivr.telephony``) turns its wire into these
provider-neutral types and back:

- **arrival**: a call announced by the provider (Twilio's voice webhook, an ARI ``StasisStart``)
  becomes a ``CallIdentity``; the adapter asks the IVR (``CallSink.call_arrived``) whether to take
  it and connects the call's audio to the IVR (TwiML ``<Connect><Stream>``, ARI + AudioSocket) or
  plays the refusal;
- **media**: the call's audio connection is a ``MediaChannel``: ``start()`` names the call, then
  ``events()`` yields caller audio as PCM16 at ``MediaStart.rate``, keypad digits, wire problems
  and the end of the stream; ``send_audio`` takes PCM16 frames at the same rate, ``clear`` drops
  what the provider buffered. Codecs (μ-law), frame sizes, stream ids and marks stay inside;
- **progress**: call status reports (ringing, answered, busy, answering machine, …) become
  ``CallStatusUpdate`` with a neutral ``CallProgress``;
- **control**: ``CallControl`` answers, hangs up, transfers and originates calls.

An adapter that needs HTTP (webhooks, media WebSockets) declares routes with neutral request and
reply types; the web layer serves them without knowing the provider. An adapter with its own
listeners (a TCP AudioSocket server, an ARI event WebSocket) runs them between ``start`` and
``close``. Nothing outside ``ivr.telephony`` and the wiring (``ivr.app``) names a provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from ivr.core.types import Language
from ivr.telephony.base import TransferTarget
from ivr.telephony.http import HttpReply, HttpRequest, HttpRoute, SocketRoute, TextSocket
from ivr.telephony.media import (
    AudioIn,
    DigitIn,
    MediaChannel,
    MediaEvent,
    MediaStart,
    StreamEnded,
    WireProblem,
)

__all__ = [
    "Admission", "AnsweredBy", "AudioIn", "CallControl", "CallDirection", "CallIdentity",
    "CallProgress", "CallSink", "CallStatusUpdate", "DigitIn", "HttpReply", "HttpRequest",
    "HttpRoute", "MediaChannel", "MediaEvent", "MediaStart", "Messaging", "OutboundCall",
    "ProviderAdapter", "SocketRoute", "StreamEnded", "TextSocket", "WireProblem",
]


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
    progress: CallProgress | None  # None: a report about something else (answered_by only)
    raw_status: str = ""  # the provider's own word, for the event log only
    answered_by: AnsweredBy | None = None
    duration_s: int | None = None
    attempt_id: str | None = None  # the campaign attempt the IVR attached when dialling
    sequence: int | None = None  # provider ordering, when it has one (replay detection)


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


class CallControl(Protocol):
    """Out-of-band control of live calls; every method raises ``ProviderApiError``
    (usually ``ProviderHttpError``) on failure."""

    async def transfer(self, call_id: str, target: TransferTarget) -> None: ...

    async def hangup(self, call_id: str) -> None: ...

    async def originate(self, call: OutboundCall) -> str:
        """Place an outbound call; returns the provider's call id."""
        ...


@runtime_checkable
class VoicemailControl(Protocol):
    """A provider that can leave a spoken message on an answering machine (optional: without
    it a campaign whose policy asks for a message hangs up instead)."""

    async def leave_message(self, call_id: str, text: str, language: Language) -> None:
        """Speak ``text`` to the machine, then end the call."""
        ...


class Messaging(Protocol):
    async def send_sms(self, to: str, from_: str, body: str) -> str:
        """Send a text message; returns the provider's message id."""
        ...


class ProviderAdapter(Protocol):
    """One telephony provider, wired in ``ivr.app`` and selected by configuration."""

    @property
    def name(self) -> str: ...

    @property
    def control(self) -> CallControl | None:
        """None when the adapter has no credentials for out-of-band control."""
        ...

    def http_routes(self) -> Sequence[HttpRoute]: ...

    def socket_routes(self) -> Sequence[SocketRoute]: ...

    async def start(self, sink: CallSink) -> None:
        """Begin taking calls (routes answer 503 before this); start own listeners."""
        ...

    async def close(self) -> None: ...
