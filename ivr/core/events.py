"""Provider-neutral media-stream events. Telephony adapters convert wire messages to these."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StreamConnected:
    """The provider opened the media socket (before any call identity is known)."""

    protocol: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class StreamStarted:
    call_sid: str
    stream_sid: str
    account_sid: str = ""
    tracks: tuple[str, ...] = ("inbound",)
    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000
    channels: int = 1
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MediaReceived:
    """One inbound audio chunk, still G.711 μ-law as the provider sent it."""

    payload: bytes
    track: str = "inbound"
    chunk: int = 0
    timestamp_ms: int = 0
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    digit: str
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class MarkReceived:
    """The provider finished playing all audio sent before the mark of this name."""

    name: str
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class StreamStopped:
    call_sid: str = ""
    sequence: int = 0


InboundEvent = (
    StreamConnected | StreamStarted | MediaReceived | DtmfReceived | MarkReceived | StreamStopped
)
