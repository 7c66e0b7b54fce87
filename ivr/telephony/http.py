"""The HTTP side of an adapter, provider-neutral (part of the adapter interface,
``ivr.telephony.provider``): webhook requests and replies, accepted WebSockets, and the
routes an adapter asks ``ivr.web`` to serve."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A webhook request in neutral form. ``path_qs`` is the raw path with its query string
    (signatures are computed on it); ``form`` holds decoded form fields of a POST."""

    method: str
    path_qs: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    remote: str = ""


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


class TextSocket(Protocol):
    """An accepted WebSocket, as an adapter sees it."""

    @property
    def closed(self) -> bool: ...

    async def receive(self) -> str | bytes | None:
        """The next message (text or binary); None once the socket is closed."""
        ...

    async def send(self, text: str) -> None: ...

    async def close(self) -> None: ...

    @property
    def error(self) -> str | None:
        """Why our side closed the socket (a bound exceeded, e.g. ``media_message_rate``);
        None when it is open or closed normally."""
        ...


@dataclass(frozen=True, slots=True)
class HttpRoute:
    method: str
    path: str
    handler: Callable[[HttpRequest], Awaitable[HttpReply]]


@dataclass(frozen=True, slots=True)
class SocketRoute:
    """A media WebSocket: ``authorize`` runs before the upgrade (raise ``SignatureError`` to
    refuse with 403); ``serve`` runs the accepted socket (wraps it in a ``MediaChannel`` and
    hands that to ``CallSink.media_connected``) and returns when the call is over."""

    path: str
    authorize: Callable[[HttpRequest], None]
    serve: Callable[[TextSocket], Awaitable[None]]
