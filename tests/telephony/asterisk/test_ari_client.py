"""The ARI REST client against the Asterisk emulator (real HTTP over loopback)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ivr.sim.asterisk import AsteriskEmulator, OriginateRequest
from ivr.telephony.asterisk import audiosocket as aus
from ivr.telephony.asterisk.ari_client import AriClient, AriCredentials
from ivr.telephony.base import ProviderHttpError


@pytest.fixture
async def emu() -> AsyncIterator[AsteriskEmulator]:
    emulator = AsteriskEmulator(user="ivr", password="pw")
    await emulator.start()
    yield emulator
    await emulator.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _client(http: aiohttp.ClientSession, emu: AsteriskEmulator, password: str = "pw"
            ) -> AriClient:
    return AriClient(http, f"http://127.0.0.1:{emu.port}/ari", AriCredentials("ivr", password),
                     timeout_s=2.0)


async def test_answer_hangup_and_continue(emu: AsteriskEmulator,
                                          http: aiohttp.ClientSession) -> None:
    ari = _client(http, emu)
    leg = await emu.incoming_call("+8613812345678", "4000")
    await ari.answer(leg.channel_id)
    assert emu.channels[leg.channel_id].state == "Up"
    await ari.continue_in_dialplan(leg.channel_id, context="ivr-agents", extension="6001")
    assert leg.transferred_to == ("ivr-agents", "6001")
    other = await emu.incoming_call("+8613812345679", "4000")
    await ari.hangup(other.channel_id)
    assert other.ended.is_set() and other.ended_by == "ivr"
    await ari.hangup(other.channel_id)  # already gone: not an error
    assert "1234567" not in repr(ari)


async def test_originate_carries_id_and_variables(emu: AsteriskEmulator,
                                                  http: aiohttp.ClientSession) -> None:
    seen: list[OriginateRequest] = []

    async def callee(req: OriginateRequest) -> str:
        seen.append(req)
        return "answer"

    emu.on_originate = callee
    ari = _client(http, emu)
    channel = await ari.originate("ivr-out-1", "PJSIP/13812345678@trunk", app="ivr",
                                  app_args="outbound", caller_id="4000", timeout_s=20,
                                  variables={"IVR_CALL_UUID": "u-1", "IVR_CUSTOMER_ID": "c9"})
    assert channel["id"] == "ivr-out-1"
    leg = await asyncio.wait_for(emu.answered_legs.get(), 5)
    assert leg.channel_id == "ivr-out-1"
    assert seen[0].variables == {"IVR_CALL_UUID": "u-1", "IVR_CUSTOMER_ID": "c9"}
    assert seen[0].app_args == ("outbound",)
    with pytest.raises(ProviderHttpError) as info:
        await ari.originate("ivr-out-1", "PJSIP/1@trunk", app="ivr")
    assert info.value.http_status == 409


async def test_external_media_connects_an_audiosocket(emu: AsteriskEmulator,
                                                      http: aiohttp.ClientSession) -> None:
    got: asyncio.Queue[bytes] = asyncio.Queue()
    done = asyncio.Event()

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.put_nowait(await reader.readexactly(19))
        await done.wait()
        writer.close()

    tcp = await asyncio.start_server(server, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    try:
        ari = _client(http, emu)
        stream_id = uuid.uuid4()
        leg = await emu.incoming_call("+8613812345678", "4000")
        await ari.create_bridge("b-1")
        chan = await ari.external_media("media-1", app="ivr", external_host=f"127.0.0.1:{port}",
                                        stream_id=str(stream_id))
        assert chan["id"] == "media-1" and chan["name"].startswith("AudioSocket/")
        assert await asyncio.wait_for(got.get(), 5) == aus.encode_uuid(stream_id)
        await ari.add_to_bridge("b-1", leg.channel_id, "media-1")
        assert leg.media_up.is_set()
        await ari.destroy_bridge("b-1")
        await ari.destroy_bridge("b-1")  # already gone
    finally:
        done.set()
        tcp.close()
        await tcp.wait_closed()


async def test_errors_carry_the_http_status(emu: AsteriskEmulator,
                                            http: aiohttp.ClientSession) -> None:
    with pytest.raises(ProviderHttpError) as info:
        await _client(http, emu, password="wrong").answer("x")
    assert info.value.http_status == 401
    with pytest.raises(ProviderHttpError) as info:
        await _client(http, emu).answer("no-such-channel")
    assert info.value.http_status == 404 and "Channel not found" in str(info.value)
    with pytest.raises(ProviderHttpError) as info:
        await _client(http, emu).external_media("m", app="ivr", external_host="127.0.0.1:1",
                                                stream_id="not-a-uuid")
    assert info.value.http_status == 400


async def test_unreachable_ari_is_a_provider_error(http: aiohttp.ClientSession) -> None:
    sock = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = sock.sockets[0].getsockname()[1]
    sock.close()
    await sock.wait_closed()
    ari = AriClient(http, f"http://127.0.0.1:{port}/ari", AriCredentials("ivr", "pw"))
    with pytest.raises(ProviderHttpError) as info:
        await ari.answer("x")
    assert info.value.http_status == 0


async def test_events_socket_needs_auth_and_app(emu: AsteriskEmulator,
                                                http: aiohttp.ClientSession) -> None:
    base = f"ws://127.0.0.1:{emu.port}/ari/events"
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(base + "?app=ivr")
    async with http.ws_connect(base + "?app=ivr&api_key=ivr:pw") as ws:
        await emu.wait_subscribed()
        leg = await emu.incoming_call("+8613812345678", "4000")
        msg = json.loads((await ws.receive(timeout=5)).data)
        assert msg["type"] == "StasisStart" and msg["channel"]["id"] == leg.channel_id
