"""ARI WebSocket events, parsed into typed values at the edge (only the ones the adapter uses).

Event JSON as documented in Asterisk's ``rest-api/api-docs/events.json``: every message has
``type``; channel events carry a ``Channel`` (id, name, state, caller, dialplan, channelvars).
Anything else becomes ``OtherEvent`` (ignored by the adapter, never an error)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ivr.core.errors import ErrorCode, WireError


@dataclass(frozen=True, slots=True, repr=False)
class Channel:
    id: str
    name: str = ""
    state: str = ""
    caller_number: str = ""
    exten: str = ""
    context: str = ""
    variables: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # caller numbers stay out of logs
        return f"Channel(id={self.id!r}, name={self.name.split('-')[0]!r}, state={self.state!r})"


@dataclass(frozen=True, slots=True)
class StasisStart:
    channel: Channel
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StasisEnd:
    channel: Channel


@dataclass(frozen=True, slots=True)
class ChannelStateChange:
    channel: Channel


@dataclass(frozen=True, slots=True)
class ChannelHangupRequest:
    channel: Channel
    cause: int | None = None


@dataclass(frozen=True, slots=True)
class ChannelDestroyed:
    channel: Channel
    cause: int = 0
    cause_txt: str = ""


@dataclass(frozen=True, slots=True)
class ChannelDtmfReceived:
    channel: Channel
    digit: str
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class OtherEvent:
    type: str


AriEvent = (StasisStart | StasisEnd | ChannelStateChange | ChannelHangupRequest
            | ChannelDestroyed | ChannelDtmfReceived | OtherEvent)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_channel(data: Any) -> Channel:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise WireError("ARI event without a channel id", code=ErrorCode.WIRE_MALFORMED)
    caller = _dict(data.get("caller"))
    dialplan = _dict(data.get("dialplan"))
    raw_vars = _dict(data.get("channelvars"))
    return Channel(
        id=data["id"],
        name=_str(data.get("name")),
        state=_str(data.get("state")),
        caller_number=_str(caller.get("number")),
        exten=_str(dialplan.get("exten")),
        context=_str(dialplan.get("context")),
        variables={str(k): str(v) for k, v in raw_vars.items() if v is not None},
    )


def parse_event(raw: str | bytes) -> AriEvent:
    """One WebSocket message → a typed event; ``WireError`` when it is not an ARI event."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"ARI event is not JSON: {exc}", code=ErrorCode.WIRE_MALFORMED) from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise WireError("ARI event without a type", code=ErrorCode.WIRE_MALFORMED)
    kind = data["type"]
    if kind == "StasisStart":
        raw_args = data.get("args")
        args: list[Any] = raw_args if isinstance(raw_args, list) else []
        return StasisStart(parse_channel(data.get("channel")), tuple(str(a) for a in args))
    if kind == "StasisEnd":
        return StasisEnd(parse_channel(data.get("channel")))
    if kind == "ChannelStateChange":
        return ChannelStateChange(parse_channel(data.get("channel")))
    if kind == "ChannelHangupRequest":
        cause = data.get("cause")
        return ChannelHangupRequest(parse_channel(data.get("channel")),
                                    cause if isinstance(cause, int) else None)
    if kind == "ChannelDestroyed":
        cause = data.get("cause")
        return ChannelDestroyed(parse_channel(data.get("channel")),
                                cause if isinstance(cause, int) else 0,
                                _str(data.get("cause_txt")))
    if kind == "ChannelDtmfReceived":
        digit = _str(data.get("digit"))
        if len(digit) != 1:
            raise WireError("ChannelDtmfReceived without one digit",
                            code=ErrorCode.WIRE_MALFORMED)
        duration = data.get("duration_ms")
        return ChannelDtmfReceived(parse_channel(data.get("channel")), digit,
                                   duration if isinstance(duration, int) else 0)
    return OtherEvent(kind)
