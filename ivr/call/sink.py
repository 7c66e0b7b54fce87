"""Where a call's outbound audio and control messages go (bound to a provider socket by web)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from ivr.telephony.base import MediaCodec


class MediaSink(Protocol):
    async def send_media(self, ulaw: bytes) -> None: ...

    async def send_mark(self, name: str) -> None: ...

    async def send_clear(self) -> None: ...


class CodecSink:
    """A ``MediaSink`` that encodes with a provider codec and sends text frames."""

    def __init__(self, codec: MediaCodec, stream_sid: str,
                 send: Callable[[str], Awaitable[None]]) -> None:
        self._codec = codec
        self._sid = stream_sid
        self._send = send

    async def send_media(self, ulaw: bytes) -> None:
        await self._send(self._codec.media(self._sid, ulaw))

    async def send_mark(self, name: str) -> None:
        await self._send(self._codec.mark(self._sid, name))

    async def send_clear(self) -> None:
        await self._send(self._codec.clear(self._sid))
