"""One call's AudioSocket connection as a provider-neutral media channel.

Caller audio (slin 8 kHz, any message size) comes out as 20 ms ``AudioIn`` frames; 0x03 digits
as ``DigitIn`` when AudioSocket is the DTMF source; a 0x00 message, an Asterisk "caller hung
up" error or the socket closing end the stream. The ARI side injects what it learns (digits from
``ChannelDtmfReceived``, the caller's hang-up). Bot audio goes out as 0x10 messages as the
driver paces it; closing sends 0x00 (Asterisk hangs the AudioSocket channel up) and closes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ivr.audio.chunker import FrameChunker
from ivr.core.audio import frame_bytes
from ivr.core.bounds import Breach, TokenBucket
from ivr.core.errors import ErrorCode, WireError
from ivr.telephony.asterisk import audiosocket as aus
from ivr.telephony.asterisk.streams import StreamBinding
from ivr.telephony.provider import (
    AudioIn,
    DigitIn,
    MediaEvent,
    MediaStart,
    StreamEnded,
    WireProblem,
)

log = logging.getLogger(__name__)

QUEUE_FRAMES = 50  # 1 s of caller audio; beyond that the socket is not read (TCP backpressure)
WRITE_TIMEOUT_S = 1.0
_WAKE = object()


@dataclass(frozen=True, slots=True)
class WireBounds:
    """One connection's bounds on the wire (the AudioSocket twin of the media sockets' bounds;
    caller audio per second and digits are bounded by the call hub like every provider's)."""

    messages_per_s: float = 150.0  # Asterisk sends 50 audio messages a second
    burst_s: float = 5.0  # messages held back by a network stall, accepted up to this much
    max_audio_bytes: int = 3200  # audio in one message: 200 ms of slin at 8 kHz
    max_message_bytes: int = 8192  # any message's payload (refused from its header, unread)


class AudioSocketChannel:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 binding: StreamBinding, *, dtmf: bool = False,
                 bounds: WireBounds | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._reader = reader
        self._bounds = bounds or WireBounds()
        self._clock = clock
        b = self._bounds
        self._messages = TokenBucket.full(b.messages_per_s, b.messages_per_s * b.burst_s, clock())
        self._writer = writer
        self.binding = binding
        self._dtmf = dtmf
        self._decoder = aus.Decoder(self._bounds.max_message_bytes)
        self._queue: asyncio.Queue[MediaEvent | object] = asyncio.Queue(QUEUE_FRAMES)
        self._injected: deque[MediaEvent] = deque()
        self._chunker = FrameChunker(frame_bytes(aus.SLIN_RATE))
        self._pump: asyncio.Task[None] | None = None
        self._closed = False
        self.ended = asyncio.Event()
        self.frames_in = 0
        self.frames_out = 0

    @property
    def provider(self) -> str:
        return "asterisk"

    @property
    def call_id(self) -> str:
        return self.binding.call_id

    async def start(self) -> MediaStart:
        # AudioSocket hands each frame to the channel as it arrives: the default lead only.
        return MediaStart(self.binding.call_id, aus.SLIN_RATE, 20, dict(self.binding.params))

    def inject(self, event: MediaEvent) -> None:
        """An event learnt over ARI for this call (a digit, the caller hanging up)."""
        if self.ended.is_set():
            return
        self._injected.append(event)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_WAKE)

    async def events(self) -> AsyncIterator[MediaEvent]:
        if self._pump is None:
            self._pump = asyncio.create_task(self._read(), name=f"audiosocket-{self.call_id}")
        try:
            while True:
                if self._injected:
                    event = self._injected.popleft()
                else:
                    item = await self._queue.get()
                    if item is _WAKE:
                        continue
                    assert isinstance(item, AudioIn | DigitIn | WireProblem | StreamEnded)
                    event = item
                yield event
                if isinstance(event, StreamEnded):
                    return
        finally:
            self.ended.set()
            await self._stop_pump()

    async def _read(self) -> None:
        ended = StreamEnded("closed")
        try:
            pending: list[aus.Message] = []
            while True:
                for msg in pending:
                    end = await self._dispatch(msg)
                    if end is not None:
                        ended = end
                        break
                else:
                    if self._decoder.too_large:
                        ended = StreamEnded("closed", error=Breach.MESSAGE_SIZE.value)
                        break
                    data = await self._reader.read(4096)
                    if data:
                        pending = self._decoder.feed(data)
                        continue
                break
        except (ConnectionError, OSError) as exc:
            ended = StreamEnded(f"socket error: {type(exc).__name__}")
        if ended.error:
            log.warning("AudioSocket %s closed: %s", self.call_id[:16], ended.error)
            self._writer.close()
        # After the audio already queued (unlike injected events, which go first).
        await self._queue.put(ended)

    def _breach(self, msg: aus.Message) -> Breach | None:
        if not self._messages.take(1, self._clock()):
            return Breach.MESSAGE_RATE
        if msg.kind == aus.Kind.AUDIO and len(msg.payload) > self._bounds.max_audio_bytes:
            return Breach.MEDIA_FRAME
        return None

    async def _dispatch(self, msg: aus.Message) -> StreamEnded | None:
        """Queue what ``msg`` means; how the stream ended when it is over."""
        breach = self._breach(msg)
        if breach is not None:
            return StreamEnded("closed", error=breach.value)
        try:
            if msg.kind == aus.Kind.AUDIO:
                for frame in self._chunker.push(aus.check_audio(msg.payload)):
                    self.frames_in += 1
                    await self._queue.put(AudioIn(frame))
            elif msg.kind == aus.Kind.DTMF:
                digit = aus.parse_dtmf(msg.payload)
                if self._dtmf:
                    await self._queue.put(DigitIn(digit))
            elif msg.kind == aus.Kind.HANGUP:
                return StreamEnded("hangup")
            elif msg.kind == aus.Kind.ERROR:
                code = msg.payload[0] if msg.payload else 0
                if code == aus.AsteriskError.HANGUP:
                    return StreamEnded("caller hung up")
                await self._queue.put(WireProblem(ErrorCode.WIRE_MALFORMED.value,
                                                  f"AudioSocket error 0x{code:02x} from Asterisk"))
            else:
                await self._queue.put(WireProblem(ErrorCode.WIRE_UNKNOWN_EVENT.value,
                                                  f"AudioSocket kind 0x{msg.kind:02x}"))
        except WireError as exc:
            await self._queue.put(WireProblem(exc.code.value, str(exc)))
        return None

    async def send_audio(self, pcm: bytes) -> None:
        if self._closed or self._writer.is_closing():
            return
        self._writer.write(aus.encode_audio(pcm))
        self.frames_out += 1
        try:
            await asyncio.wait_for(self._writer.drain(), WRITE_TIMEOUT_S)
        except (TimeoutError, ConnectionError, OSError):
            log.warning("AudioSocket %s: write stalled or failed; ending the stream",
                        self.call_id[:16])
            self.inject(StreamEnded("write failed"))

    async def clear(self) -> None:
        """Nothing to drop: AudioSocket has no buffer beyond what the driver paced out."""
        return None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._writer.is_closing():
            with contextlib.suppress(ConnectionError, OSError):
                self._writer.write(aus.encode_hangup())
                await asyncio.wait_for(self._writer.drain(), WRITE_TIMEOUT_S)
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), WRITE_TIMEOUT_S)
        self.inject(StreamEnded("closed by the IVR"))
        await self._stop_pump()

    async def _stop_pump(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
