"""The IVR's AudioSocket server: Asterisk connects here for every call's audio.

Who may use it: connections only from the configured peers (by default the PBX's addresses),
and a stream only when its first message is a UUID the IVR announced over ARI for a live call
(one use, short expiry). Anything else is answered with a hang-up message and closed, counted,
and never reaches a call; a silent connection is dropped after ``first_message_s``; at most
``max_connections`` are open at once (with or without a call); each stream runs within its
``WireBounds`` (messages per second, audio per message)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from ivr.core.errors import WireError
from ivr.telephony.asterisk import audiosocket as aus
from ivr.telephony.asterisk.channel import AudioSocketChannel, WireBounds
from ivr.telephony.asterisk.streams import StreamRegistry

log = logging.getLogger(__name__)


@dataclass
class ServerStats:
    accepted: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def refuse(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1


def allowed(peer: str, peers: Iterable[str]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in peers:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class AudioSocketServer:
    def __init__(self, registry: StreamRegistry,
                 on_stream: Callable[[AudioSocketChannel], Awaitable[None]], *,
                 peers: Iterable[str], dtmf: bool = False, first_message_s: float = 5.0,
                 max_connections: int = 60, bounds: WireBounds | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._registry = registry
        self._on_stream = on_stream
        self._peers = tuple(peers)
        self._dtmf = dtmf
        self._first_message_s = first_message_s
        self._max_connections = max_connections
        self._bounds = bounds or WireBounds()
        self._clock = clock
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.stats = ServerStats()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self._max_connections:
            await self._refuse(writer, "capacity",
                               f"{len(self._connections)} AudioSocket connections open")
            return
        self._connections.add(task)
        try:
            channel = await self._bind(reader, writer)
            if channel is None:
                return
            self.stats.accepted += 1
            try:
                await self._on_stream(channel)
            finally:
                await channel.close()
        finally:
            self._connections.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _bind(self, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> AudioSocketChannel | None:
        peer = writer.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else ""
        if not allowed(host, self._peers):
            await self._refuse(writer, "peer", f"connection from {host} not allowed")
            return None
        try:
            first = await asyncio.wait_for(self._first(reader), self._first_message_s)
        except TimeoutError:
            await self._refuse(writer, "timeout", "no UUID message in time")
            return None
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            await self._refuse(writer, "closed", "connection closed before the UUID")
            return None
        if first.kind != aus.Kind.UUID:
            await self._refuse(writer, "protocol", f"first message kind {first.kind}")
            return None
        try:
            stream_id = aus.parse_uuid(first.payload)
        except WireError as exc:
            await self._refuse(writer, "protocol", str(exc))
            return None
        binding = self._registry.claim(stream_id, self._clock())
        if binding is None:
            await self._refuse(writer, "unknown_stream",
                               "UUID not announced for a live call (or already used)")
            return None
        log.info("AudioSocket stream for call %s from %s", binding.call_id[:16], host)
        return AudioSocketChannel(reader, writer, binding, dtmf=self._dtmf,
                                  bounds=self._bounds, clock=self._clock)

    @staticmethod
    async def _first(reader: asyncio.StreamReader) -> aus.Message:
        """Exactly the first message (nothing after it is consumed)."""
        kind, length = aus.HEADER.unpack(await reader.readexactly(aus.HEADER_BYTES))
        if length > 64:  # a UUID is 16 bytes; do not read a large bogus payload
            return aus.Message(kind, b"")
        return aus.Message(kind, await reader.readexactly(length))

    async def _refuse(self, writer: asyncio.StreamWriter, reason: str, message: str) -> None:
        self.stats.refuse(reason)
        log.warning("AudioSocket connection refused: %s", message)
        with contextlib.suppress(ConnectionError, OSError):
            writer.write(aus.encode_hangup())
            await writer.drain()
        writer.close()
