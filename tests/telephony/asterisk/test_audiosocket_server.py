"""The IVR's AudioSocket server and channel over real TCP on loopback, with the emulator's
AudioSocket leg (Asterisk's side of the wire) as the client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from ivr.call.limits import BoundedChannel, MediaLimits
from ivr.sim.asterisk.media import MediaLeg
from ivr.telephony.asterisk import audiosocket as aus
from ivr.telephony.asterisk.channel import AudioSocketChannel, WireBounds
from ivr.telephony.asterisk.server import AudioSocketServer, allowed
from ivr.telephony.asterisk.streams import StreamRegistry
from ivr.telephony.provider import (
    AudioIn,
    DigitIn,
    MediaChannel,
    MediaEvent,
    StreamEnded,
    WireProblem,
)


@dataclass
class Env:
    registry: StreamRegistry
    server: AudioSocketServer
    port: int
    channels: asyncio.Queue[AudioSocketChannel] = field(default_factory=asyncio.Queue)
    events: list[MediaEvent] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)


async def _make(peers: tuple[str, ...] = ("127.0.0.1",), dtmf: bool = True,
                first_message_s: float = 2.0, max_connections: int = 60,
                bounds: WireBounds | None = None,
                wrap: Callable[[AudioSocketChannel], MediaChannel] | None = None) -> Env:
    registry = StreamRegistry()
    env: Env

    async def on_stream(channel: AudioSocketChannel) -> None:
        env.channels.put_nowait(channel)
        media: MediaChannel = channel if wrap is None else wrap(channel)
        await media.start()
        async for event in media.events():
            env.events.append(event)
        await env.release.wait()

    server = AudioSocketServer(registry, on_stream, peers=peers, dtmf=dtmf,
                               first_message_s=first_message_s,
                               max_connections=max_connections, bounds=bounds, clock=lambda: 0.0)
    port = await server.start("127.0.0.1", 0)
    env = Env(registry, server, port)
    return env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    e = await _make()
    yield e
    e.release.set()
    await e.server.close()


class Client:
    """Asterisk's side: what it receives from the IVR."""

    def __init__(self, stream_id: uuid.UUID) -> None:
        self.audio = bytearray()
        self.hung_up = asyncio.Event()
        self.leg = MediaLeg(stream_id, self.audio.extend, self.hung_up.set)


async def _connect(env: Env, stream_id: uuid.UUID) -> Client:
    client = Client(stream_id)
    await client.leg.connect("127.0.0.1", env.port)
    return client


async def _until(cond: Callable[[], bool], limit_s: float = 5.0) -> None:
    async def poll() -> None:
        while not cond():  # noqa: ASYNC110 - test polling
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), limit_s)


async def test_an_announced_stream_carries_a_call(env: Env) -> None:
    sid = env.registry.announce("chan-1", {"lang": "en"}, now=0.0)
    client = await _connect(env, sid)
    channel = await asyncio.wait_for(env.channels.get(), 5)
    start = await channel.start()
    assert (start.call_id, start.rate, start.frame_ms, dict(start.params)) == \
        ("chan-1", 8000, 20, {"lang": "en"})
    # 30 ms messages come out as whole 20 ms frames.
    for _ in range(4):
        await client.leg.send(aus.encode_audio(bytes(480)))
    await client.leg.send(aus.encode_dtmf("7"))
    channel.inject(DigitIn("1"))
    await _until(lambda: len([e for e in env.events if isinstance(e, AudioIn)]) == 6)
    await _until(lambda: DigitIn("7") in env.events and DigitIn("1") in env.events)
    assert all(len(e.pcm) == 320 for e in env.events if isinstance(e, AudioIn))
    await channel.send_audio(b"\x01\x02" * 160)
    await _until(lambda: len(client.audio) == 320)
    await client.leg.send(aus.encode_hangup())
    await _until(lambda: bool(env.events) and isinstance(env.events[-1], StreamEnded))
    assert env.events[-1] == StreamEnded("hangup")
    env.release.set()
    await asyncio.wait_for(client.hung_up.wait(), 5)  # the IVR answered with 0x00 and closed
    assert env.server.stats.accepted == 1


async def test_closing_from_the_ivr_hangs_up_asterisks_channel(env: Env) -> None:
    sid = env.registry.announce("chan-2", {}, now=0.0)
    client = await _connect(env, sid)
    channel = await asyncio.wait_for(env.channels.get(), 5)
    await channel.close()
    await asyncio.wait_for(client.hung_up.wait(), 5)
    await channel.close()  # idempotent


async def test_the_socket_closing_ends_the_stream(env: Env) -> None:
    sid = env.registry.announce("chan-3", {}, now=0.0)
    client = await _connect(env, sid)
    await asyncio.wait_for(env.channels.get(), 5)
    await client.leg.close()
    await _until(lambda: bool(env.events) and isinstance(env.events[-1], StreamEnded))
    assert env.events[-1] == StreamEnded("closed")


async def test_asterisk_errors_and_unknown_kinds_are_wire_problems(env: Env) -> None:
    sid = env.registry.announce("chan-4", {}, now=0.0)
    client = await _connect(env, sid)
    await asyncio.wait_for(env.channels.get(), 5)
    await client.leg.send(aus.encode(0x42, b"??"))
    await client.leg.send(aus.encode(aus.Kind.DTMF, b"77"))
    await client.leg.send(aus.encode_audio(bytes(320)))
    await client.leg.send(aus.encode_error(aus.AsteriskError.HANGUP))
    await _until(lambda: bool(env.events) and isinstance(env.events[-1], StreamEnded))
    kinds = [type(e) for e in env.events]
    assert kinds == [WireProblem, WireProblem, AudioIn, StreamEnded]
    assert env.events[-1] == StreamEnded("caller hung up")


async def test_unannounced_and_replayed_uuids_are_refused(env: Env) -> None:
    stranger = await _connect(env, uuid.uuid4())
    await asyncio.wait_for(stranger.hung_up.wait(), 5)
    sid = env.registry.announce("chan-5", {}, now=0.0)
    await _connect(env, sid)
    await asyncio.wait_for(env.channels.get(), 5)
    replay = await _connect(env, sid)
    await asyncio.wait_for(replay.hung_up.wait(), 5)
    assert env.server.stats.refused == {"unknown_stream": 2}
    assert env.server.stats.accepted == 1


async def test_protocol_violations_and_silence_are_refused() -> None:
    env = await _make(first_message_s=0.3)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", env.port)
        writer.write(aus.encode_audio(bytes(320)))  # audio before the UUID
        assert await reader.read() == aus.encode_hangup()
        reader, writer = await asyncio.open_connection("127.0.0.1", env.port)
        assert await asyncio.wait_for(reader.read(), 5) == aus.encode_hangup()  # silent
        reader, writer = await asyncio.open_connection("127.0.0.1", env.port)
        writer.write(aus.encode(aus.Kind.UUID, b"short"))
        assert await reader.read() == aus.encode_hangup()
        assert env.server.stats.refused == {"protocol": 2, "timeout": 1}
    finally:
        await env.server.close()


async def test_peers_outside_the_allowlist_are_refused() -> None:
    env = await _make(peers=("10.0.0.0/8",))
    try:
        sid = env.registry.announce("chan-6", {}, now=0.0)
        client = await _connect(env, sid)
        await asyncio.wait_for(client.hung_up.wait(), 5)
        assert env.server.stats.refused == {"peer": 1}
        assert len(env.registry) == 1  # the stream was not consumed by the refused peer
    finally:
        await env.server.close()


def test_allowed() -> None:
    assert allowed("127.0.0.1", ["127.0.0.1"])
    assert allowed("192.0.2.7", ["192.0.2.0/24"])
    assert allowed("::1", ["::1"])
    assert not allowed("192.0.2.7", ["198.51.100.0/24", "not-an-address"])
    assert not allowed("", ["127.0.0.1"])


async def test_digits_over_audiosocket_can_be_ignored() -> None:
    env = await _make(dtmf=False)
    try:
        sid = env.registry.announce("chan-7", {}, now=0.0)
        client = await _connect(env, sid)
        await asyncio.wait_for(env.channels.get(), 5)
        await client.leg.send(aus.encode_dtmf("5"))
        await client.leg.send(aus.encode_hangup())
        await _until(lambda: bool(env.events) and isinstance(env.events[-1], StreamEnded))
        assert env.events == [StreamEnded("hangup")]
    finally:
        env.release.set()
        await env.server.close()


# ---- bounds (the AudioSocket twin of the media sockets' SocketLimits) ---------------------


async def test_connections_beyond_the_cap_are_refused_until_one_closes() -> None:
    env = await _make(max_connections=1)
    try:
        first = await _connect(env, env.registry.announce("chan-8", {}, now=0.0))
        await asyncio.wait_for(env.channels.get(), 5)
        second_id = env.registry.announce("chan-9", {}, now=0.0)
        refused = await _connect(env, second_id)
        await asyncio.wait_for(refused.hung_up.wait(), 5)
        assert env.server.stats.refused == {"capacity": 1}
        assert len(env.registry) == 1  # the refused connection did not use up chan-9's UUID
        await first.leg.send(aus.encode_hangup())
        env.release.set()
        await asyncio.wait_for(first.hung_up.wait(), 5)
        await _until(lambda: not env.server._connections)
        await _connect(env, second_id)
        await asyncio.wait_for(env.channels.get(), 5)
        assert env.server.stats.accepted == 2
    finally:
        env.release.set()
        await env.server.close()


async def _breach(bounds: WireBounds, messages: list[bytes],
                  wrap: Callable[[AudioSocketChannel], MediaChannel] | None = None,
                  ) -> tuple[Env, Client]:
    env = await _make(bounds=bounds, wrap=wrap)
    client = await _connect(env, env.registry.announce("chan-b", {}, now=0.0))
    await asyncio.wait_for(env.channels.get(), 5)
    for message in messages:
        await client.leg.send(message)
    await _until(lambda: bool(env.events) and isinstance(env.events[-1], StreamEnded))
    await asyncio.wait_for(client.hung_up.wait(), 5)  # the IVR closed Asterisk's side
    return env, client


async def test_messages_beyond_the_rate_end_the_stream() -> None:
    frame = aus.encode_audio(bytes(320))
    env, _ = await _breach(WireBounds(messages_per_s=10, burst_s=1), [frame] * 11)
    try:
        assert len([e for e in env.events if isinstance(e, AudioIn)]) == 10
        assert env.events[-1] == StreamEnded("closed", error="media_message_rate")
    finally:
        env.release.set()
        await env.server.close()


async def test_a_message_over_the_size_limit_ends_the_stream_unread() -> None:
    big = aus.encode(0x42, bytes(1000))  # an unknown kind: otherwise only a wire problem
    env, _ = await _breach(WireBounds(max_message_bytes=512),
                           [aus.encode_audio(bytes(320)), big[:200]])
    try:
        assert [type(e) for e in env.events] == [AudioIn, StreamEnded]
        assert env.events[-1] == StreamEnded("closed", error="media_message_too_large")
    finally:
        env.release.set()
        await env.server.close()


async def test_too_much_audio_in_one_message_ends_the_stream() -> None:
    env, _ = await _breach(WireBounds(max_audio_bytes=3200), [aus.encode_audio(bytes(3202))])
    try:
        assert env.events == [StreamEnded("closed", error="media_frame_too_large")]
    finally:
        env.release.set()
        await env.server.close()


async def test_the_calls_media_bounds_apply_to_audiosocket_streams() -> None:
    """The hub wraps every provider's channel in ``BoundedChannel``: audio faster than real
    time beyond the burst ends an AudioSocket stream too."""
    breaches: list[str] = []

    def bounded(channel: AudioSocketChannel) -> MediaChannel:
        return BoundedChannel(channel, MediaLimits(burst_s=0.1), lambda: 0.0, breaches.append)

    env, _ = await _breach(WireBounds(), [aus.encode_audio(bytes(320))] * 8, wrap=bounded)
    try:
        assert len([e for e in env.events if isinstance(e, AudioIn)]) == 5  # 100 ms at 16 kB/s
        assert env.events[-1] == StreamEnded("closed", error="media_rate")
        assert breaches == ["media_rate"]
    finally:
        env.release.set()
        await env.server.close()
