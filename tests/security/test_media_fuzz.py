"""Media-socket fuzzing (issue 9): random and mutated frames on several sockets for a few
seconds while another call streams real-time audio. The server must stay responsive, the other
call must get every frame of its audio back, and nothing may fail with an unexpected error."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import random
import time
from typing import Any

import aiohttp
import pytest

from ivr.audio.mulaw import ulaw_to_pcm16
from tests.security.harness import Harness
from tests.security.twilio_client import (
    media_message,
    new_sid,
    open_stream,
    start_message,
    started_call,
    stream_parameters,
    voice,
)

FUZZ_SECONDS = 3.0
WEIRD: list[Any] = [None, True, -1, 2**64, 1e308, "", "x" * 5000, "\u0000\udfff"[:1], [], {},
                    [1, [2, [3]]], "CA" + "0" * 32, "😀" * 50, {"a": {"b": {"c": {}}}}]


def mutate(rng: random.Random, message: str) -> str | bytes:
    kind = rng.randrange(8)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    if kind == 1:
        return "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 300)))
    if kind == 2:
        cut = rng.randrange(len(message))
        return message[:cut]
    if kind == 3:
        chars = list(message)
        for _ in range(rng.randrange(1, 6)):
            chars[rng.randrange(len(chars))] = chr(rng.randrange(32, 127))
        return "".join(chars)
    data = json.loads(message)
    target = data
    path = [k for k in ("start", "media", "mediaFormat", "customParameters") if k in data]
    if path and rng.random() < 0.6:
        target = data[path[0]]
    key = rng.choice([*target.keys(), "event", "extra"])
    if kind == 4:
        target.pop(key, None)
    elif kind == 5:
        target[key] = rng.choice(WEIRD)
    elif kind == 6:
        data["event"] = rng.choice(["start", "media", "dtmf", "mark", "stop", "clear", "x"])
    else:
        return json.dumps(data) * rng.randrange(2, 40)
    return json.dumps(data)


async def fuzz_socket(h: Harness, session: aiohttp.ClientSession, rng: random.Random,
                      deadline: float, stats: dict[str, int]) -> None:
    sid = new_sid()
    params = stream_parameters(await voice(h, sid))
    stream_sid = new_sid("MZ")
    seeds = [start_message(sid, stream_sid, params), media_message(stream_sid, b"\xff" * 160),
             json.dumps({"event": "dtmf", "streamSid": stream_sid, "dtmf": {"digit": "1"}}),
             json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": "m"}})]
    while time.monotonic() < deadline:
        try:
            ws = await open_stream(h, session)
        except aiohttp.WSServerHandshakeError as err:
            stats[f"handshake_{err.status}"] = stats.get(f"handshake_{err.status}", 0) + 1
            await asyncio.sleep(0.05)
            continue
        if rng.random() < 0.5:
            await ws.send_str(seeds[0])
        while not ws.closed and time.monotonic() < deadline:
            frame = mutate(rng, rng.choice(seeds))
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
            stats["frames"] = stats.get("frames", 0) + 1
            await asyncio.sleep(rng.choice([0, 0, 0.001, 0.005]))
        stats["sockets"] = stats.get("sockets", 0) + 1
        await ws.close()


async def steady_call(h: Harness, session: aiohttp.ClientSession,
                      frames: int) -> tuple[list[bytes], list[bytes], float]:
    """A well-behaved call: one 20 ms frame every 20 ms; returns (sent, echoed, worst gap)."""
    _sid, stream_sid, ws = await started_call(h, session)
    sent: list[bytes] = []
    echoed: list[bytes] = []

    async def receive() -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                data = json.loads(msg.data)
                if data.get("event") == "media":
                    echoed.append(base64.b64decode(data["media"]["payload"]))

    reader = asyncio.create_task(receive())
    start = time.monotonic()
    for i in range(frames):
        frame = bytes([i % 256]) * 160
        await ws.send_str(media_message(stream_sid, frame, i + 2))
        sent.append(frame)
        await asyncio.sleep(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))
    for _ in range(100):
        if len(echoed) >= len(sent):
            break
        await asyncio.sleep(0.02)
    await ws.close()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    return sent, echoed, time.monotonic() - start


async def probe_health(h: Harness, deadline: float) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    while time.monotonic() < deadline:
        started = time.monotonic()
        resp = await h.client.get("/healthz")
        out.append((resp.status, time.monotonic() - started))
        await asyncio.sleep(0.1)
    return out


@pytest.mark.timeout(60)
async def test_fuzzed_sockets_do_not_hurt_another_call(h: Harness,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    seed = int(os.environ.get("IVR_FUZZ_SEED", "0")) or random.randrange(1, 2**32)
    caplog.set_level(logging.WARNING)
    stats: dict[str, int] = {}
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + FUZZ_SECONDS
        fuzzers = [fuzz_socket(h, session, random.Random(seed + i), deadline, stats)
                   for i in range(4)]
        frames = int(FUZZ_SECONDS / 0.02)
        steady, health, *_ = await asyncio.gather(
            steady_call(h, session, frames), probe_health(h, deadline), *fuzzers)
        sent, echoed, _elapsed = steady
        # μ-law -> PCM -> μ-law may change the code of zero (0x7f/0xff): compare as PCM.
        assert [ulaw_to_pcm16(f) for f in echoed] == [ulaw_to_pcm16(f) for f in sent], \
            f"seed {seed}: the steady call lost or reordered audio"
        assert health and all(status == 200 for status, _ in health), f"seed {seed}"
        assert max(t for _, t in health) < 1.0, f"seed {seed}: health took {health}"
        # Still admits new calls afterwards; nothing left open.
        _sid, _stream, ws = await started_call(h, session)
        await ws.close()
    assert stats.get("frames", 0) > 200, stats
    unexpected = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not unexpected, f"seed {seed}: {[r.getMessage() for r in unexpected][:5]}"
    for _ in range(50):
        if not h.services.active:
            break
        await asyncio.sleep(0.05)
    assert not h.services.active
