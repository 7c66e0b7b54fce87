"""The emulator's channels and bridges, and their ARI JSON (``Channel`` model, events)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_seq = itertools.count(1)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def unique_id() -> str:
    return f"{datetime.now(UTC).timestamp():.0f}.{next(_seq)}"


@dataclass(frozen=True)
class OriginateRequest:
    channel_id: str
    endpoint: str
    app: str
    app_args: tuple[str, ...]
    caller_id: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class PhoneLeg:
    """The phone side of a caller channel: what the caller says in, what they hear out."""

    channel_id: str
    heard: bytearray = field(default_factory=bytearray)  # bot audio (slin 8 kHz) to play
    media_up: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str = ""
    transferred_to: tuple[str, str] | None = None  # (context, extension) after `continue`
    digits_sent: int = 0
    frames_sent: int = 0
    # Where the phone plays bot audio as it arrives (default: appended to ``heard``).
    listener: Callable[[bytes], None] | None = None

    def deliver(self, pcm: bytes) -> None:
        if self.listener is not None:
            self.listener(pcm)
        else:
            self.heard += pcm


@dataclass
class EmuChannel:
    id: str
    name: str
    state: str = "Down"
    caller_number: str = ""
    exten: str = ""
    context: str = "from-trunk"
    variables: dict[str, str] = field(default_factory=dict)
    app: str = ""  # Stasis application it is in ("" = none)
    bridge: str = ""
    leg: PhoneLeg | None = None  # caller channels
    stream_id: str = ""  # AudioSocket channels: the UUID sent first
    destroyed: bool = False

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "state": self.state,
            "protocol_id": "", "caller": {"name": "", "number": self.caller_number},
            "connected": {"name": "", "number": ""}, "accountcode": "",
            "dialplan": {"context": self.context, "exten": self.exten, "priority": 2,
                         "app_name": "Stasis" if self.app else "", "app_data": self.app},
            "creationtime": now_iso(), "language": "en",
        }


@dataclass
class EmuBridge:
    id: str
    channels: list[str] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "technology": "simple_bridge", "bridge_type": "mixing",
                "bridge_class": "stasis", "creator": "Stasis", "name": "",
                "channels": list(self.channels), "creationtime": now_iso()}


def event(kind: str, app: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": now_iso(), "application": app,
            "asterisk_id": "02:42:ac:11:00:02", **fields}
