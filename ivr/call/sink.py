"""Where a call's outbound audio and control messages go (bound to a provider socket by web)."""

from __future__ import annotations

from typing import Protocol


class MediaSink(Protocol):
    async def send_media(self, ulaw: bytes) -> None: ...

    async def send_mark(self, name: str) -> None: ...

    async def send_clear(self) -> None: ...
