"""Attacks on the media WebSocket (issue 9). Before: the upgrade signature was the same for
every call and ``start`` was trusted as sent, so one captured upgrade opened unlimited calls as
any customer, overwrote records, doubled live sessions, bypassed max_calls; per-call input was
unbounded and each bad frame cost two database writes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from ivr.store.records import CallRecord
from tests.security.harness import Harness, harness
from tests.security.twilio_client import (
    closed,
    media_message,
    new_sid,
    open_stream,
    start_message,
    started_call,
    stream_parameters,
    voice,
)

FRAME = b"\xff" * 160  # 20 ms of μ-law


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as value:
        yield value


async def test_start_without_a_ticket_opens_no_call(h: Harness,
                                                    session: aiohttp.ClientSession) -> None:
    """One captured (valid) upgrade used to open calls as any customer."""
    for params in ({}, {"customer_id": "c-001", "customer_name": "张伟", "lang": "en"},
                   {"call_token": "guess"}):
        ws = await open_stream(h, session)
        sid = new_sid()
        await ws.send_str(start_message(sid, new_sid("MZ"), params))
        assert await closed(ws) is not None
        assert await h.calls.get_call(sid) is None
    assert h.drivers == [] and h.services.active == {}


async def test_start_cannot_overwrite_an_existing_record(h: Harness,
                                                         session: aiohttp.ClientSession) -> None:
    await h.calls.create_call(CallRecord(call_sid="CA" + "1" * 32, customer_id="c-001"))
    before = await h.calls.get_call("CA" + "1" * 32)
    ws = await open_stream(h, session)
    await ws.send_str(start_message("CA" + "1" * 32, new_sid("MZ"),
                                    {"customer_id": "c-evil", "lang": "en"}))
    await closed(ws)
    assert await h.calls.get_call("CA" + "1" * 32) == before


async def test_ticket_is_bound_to_its_call_and_used_once(h: Harness,
                                                         session: aiohttp.ClientSession) -> None:
    sid_a, sid_b = new_sid(), new_sid()
    params_a = stream_parameters(await voice(h, sid_a))
    await voice(h, sid_b)
    # A's ticket on B's call sid: refused.
    ws = await open_stream(h, session)
    await ws.send_str(start_message(sid_b, new_sid("MZ"), params_a))
    await closed(ws)
    assert sid_b not in h.services.active
    # A's ticket on A: admitted once.
    ws_a = await open_stream(h, session)
    await ws_a.send_str(start_message(sid_a, new_sid("MZ"), params_a))
    await asyncio.sleep(0.2)
    assert sid_a in h.services.active
    # A second live session on the same call with the same ticket: refused.
    ws_again = await open_stream(h, session)
    await ws_again.send_str(start_message(sid_a, new_sid("MZ"), params_a))
    await closed(ws_again)
    assert len(h.drivers) == 1
    # ... and a replayed voice webhook cannot mint a second ticket for the live call.
    twiml = await voice(h, sid_a)
    assert "<Stream" not in twiml
    await ws_a.close()


async def test_ticket_expires(h: Harness, session: aiohttp.ClientSession) -> None:
    sid = new_sid()
    params = stream_parameters(await voice(h, sid))
    h.hub._admitted[sid].at -= h.hub.ticket_ttl_s + 1  # the ticket is older than its life
    ws = await open_stream(h, session)
    await ws.send_str(start_message(sid, new_sid("MZ"), params))
    await closed(ws)
    assert h.drivers == []


async def test_call_identity_comes_from_the_webhook(h: Harness,
                                                    session: aiohttp.ClientSession) -> None:
    sid = new_sid()
    params = stream_parameters(await voice(h, sid, {"customer_id": "c-001", "lang": "zh",
                                                    "campaign_id": "camp1"}))
    forged = {**params, "customer_id": "c-evil", "lang": "en", "campaign_id": "x",
              "customer_name": "Mallory", "direction": "outbound"}
    ws = await open_stream(h, session)
    await ws.send_str(start_message(sid, new_sid("MZ"), forged))
    await asyncio.sleep(0.2)
    [call] = h.drivers
    assert call.info.customer_id == "c-001" and call.info.language == "zh"
    assert call.info.metadata == {"campaign_id": "camp1"} and not call.info.outbound
    record = await h.calls.get_call(sid)
    assert record is not None and record.customer_id == "c-001"
    await ws.close()


async def test_max_calls_is_enforced_where_sessions_start(
        tmp_path: Path, session: aiohttp.ClientSession) -> None:
    async with harness(tmp_path, {"IVR_SERVER_MAX_CALLS": "1"}) as h:
        # Both webhooks arrive before either stream starts (the webhook check passes twice).
        sid_a, sid_b = new_sid(), new_sid()
        params_a = stream_parameters(await voice(h, sid_a))
        params_b = stream_parameters(await voice(h, sid_b))
        ws_a = await open_stream(h, session)
        await ws_a.send_str(start_message(sid_a, new_sid("MZ"), params_a))
        await asyncio.sleep(0.2)
        ws_b = await open_stream(h, session)
        await ws_b.send_str(start_message(sid_b, new_sid("MZ"), params_b))
        await closed(ws_b)
        assert list(h.services.active) == [sid_a]
        record = await h.calls.get_call(sid_b)
        assert record is not None and record.error_code == "refused:capacity"
        assert record.outcome is not None and record.outcome.value == "failed"
        await ws_a.close()


async def test_socket_without_start_is_closed_at_the_deadline(
        tmp_path: Path, session: aiohttp.ClientSession) -> None:
    async with harness(tmp_path, {"IVR_SERVER_STREAM_START_TIMEOUT_S": "0.3"}) as h:
        ws = await open_stream(h, session)
        await ws.send_str(json.dumps({"event": "connected", "protocol": "Call"}))
        await closed(ws, limit_s=3)
        assert ws.closed and h.drivers == []


async def test_socket_cap(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    async with harness(tmp_path, {"IVR_SERVER_MAX_MEDIA_SOCKETS": "2"}) as h:
        first = await open_stream(h, session)
        second = await open_stream(h, session)
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await open_stream(h, session)
        assert err.value.status == 503
        await first.close()
        await asyncio.sleep(0.2)
        third = await open_stream(h, session)
        await second.close()
        await third.close()


async def _error(h: Harness, sid: str) -> str | None:
    for _ in range(100):
        record = await h.calls.get_call(sid)
        if record is not None and record.error_code is not None:
            return record.error_code
        await asyncio.sleep(0.05)
    return None


async def test_a_huge_media_message_closes_the_call(h: Harness,
                                                    session: aiohttp.ClientSession) -> None:
    """1 MiB of base64 used to be ~97 s of audio decoded on the event loop."""
    sid, stream_sid, ws = await started_call(h, session)
    await ws.send_str(media_message(stream_sid, FRAME * 6000))
    await closed(ws)
    assert await _error(h, sid) == "media_message_too_large"
    assert sum(len(m) for m in h.drivers[0].audio) == 0


async def test_too_much_audio_in_one_message_closes_the_call(
        h: Harness, session: aiohttp.ClientSession) -> None:
    sid, stream_sid, ws = await started_call(h, session)
    await ws.send_str(media_message(stream_sid, FRAME * 20))  # 400 ms in one message
    await closed(ws)
    assert await _error(h, sid) == "media_frame_too_large"


async def test_audio_faster_than_real_time_closes_the_call(
        h: Harness, session: aiohttp.ClientSession) -> None:
    sid, stream_sid, ws = await started_call(h, session)
    for seq in range(1000):  # 20 s of audio as fast as the socket takes it
        if ws.closed:
            break
        try:
            await ws.send_str(media_message(stream_sid, FRAME, seq))
        except ConnectionError:
            break
    await closed(ws)
    assert await _error(h, sid) == "media_rate"
    received = sum(len(m) for m in h.drivers[0].audio) / 2  # PCM16 -> samples
    assert received <= 8000 * 5 * 1.25  # never more than the burst allowance (+ refill)


async def test_a_message_flood_closes_the_call(h: Harness,
                                               session: aiohttp.ClientSession) -> None:
    """Marks and other cheap messages as fast as possible (they carry no audio)."""
    sid, stream_sid, ws = await started_call(h, session)
    mark = json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": "m"}})
    for _ in range(3000):
        if ws.closed:
            break
        try:
            await ws.send_str(mark)
        except ConnectionError:
            break
    await closed(ws)
    assert await _error(h, sid) == "media_message_rate"


async def test_a_flood_of_bad_frames_closes_the_call(h: Harness,
                                                     session: aiohttp.ClientSession) -> None:
    sid, _stream_sid, ws = await started_call(h, session)
    for _ in range(200):
        if ws.closed:
            break
        try:
            await ws.send_str("{")
        except ConnectionError:
            break
    await closed(ws)
    assert await _error(h, sid) == "wire_error_flood"


async def test_bad_frames_cost_a_bounded_number_of_writes(
        tmp_path: Path, session: aiohttp.ClientSession) -> None:
    async with harness(tmp_path, real_calls=True) as h:
        sid, _stream_sid, ws = await started_call(h, session)
        for i in range(30):
            await ws.send_str("not json" if i % 2 else json.dumps({"event": "weird"}))
        await ws.close()
        for _ in range(100):
            record = await h.calls.get_call(sid)
            if record is not None and record.ended_at is not None:
                break
            await asyncio.sleep(0.05)
        events = [e for e in await h.calls.get_events(sid) if e.kind == "wire_error"]
        assert len(events) == 6  # five recorded, one summary of the rest
        record = await h.calls.get_call(sid)
        assert record is not None and record.wire_errors == 30


async def test_bad_frames_before_start_write_nothing_without_a_call(
        h: Harness, session: aiohttp.ClientSession) -> None:
    ws = await open_stream(h, session)
    for _ in range(20):
        await ws.send_str("garbage")
    await ws.close()
    await asyncio.sleep(0.1)
    assert await h.calls.list_calls() == []
