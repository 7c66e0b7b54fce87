"""The emulator's AudioSocket channel: Asterisk's side of the TCP stream (``chan_audiosocket``).

Connects to the IVR, sends the UUID first, then carries signed-linear 8 kHz audio both ways;
digits pressed by the bridged caller go as 0x03 messages when enabled; a 0x00 from the IVR
hangs the channel up; hanging up closes the socket (as Asterisk does, without a message)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable

from ivr.telephony.asterisk import audiosocket as aus

log = logging.getLogger(__name__)


class MediaLeg:
    def __init__(self, stream_id: uuid.UUID, on_audio: Callable[[bytes], None],
                 on_hangup: Callable[[], None]) -> None:
        self.stream_id = stream_id
        self._on_audio = on_audio
        self._on_hangup = on_hangup
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.received_frames = 0
        self.protocol_errors: list[str] = []

    async def connect(self, host: str, port: int, timeout_s: float = 5.0) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
        self._writer = writer
        writer.write(aus.encode_uuid(self.stream_id))
        await writer.drain()
        self._reader_task = asyncio.create_task(self._read(reader), name="emu-audiosocket")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        decoder = aus.Decoder()
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                for msg in decoder.feed(data):
                    if msg.kind == aus.Kind.AUDIO:
                        self.received_frames += 1
                        self._on_audio(msg.payload)
                    elif msg.kind == aus.Kind.HANGUP:
                        return
                    else:  # Asterisk fails the channel on anything else from the server
                        self.protocol_errors.append(f"kind 0x{msg.kind:02x} from the server")
                        return
        except (ConnectionError, OSError):
            pass
        finally:
            self._on_hangup()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def send(self, message: bytes) -> None:
        if not self.connected:
            return
        assert self._writer is not None
        try:
            self._writer.write(message)
            await self._writer.drain()
        except (ConnectionError, OSError):
            await self.close()

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
        task = self._reader_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
