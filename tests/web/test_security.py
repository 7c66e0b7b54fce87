"""Route guards on a real aiohttp server: API bearer token (no loopback exemption), and the Twilio
adapter's signature checks on its webhooks and media socket (served by the neutral routes)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest
from aiohttp import web

from ivr.call.prompts import load_prompts
from ivr.config import Config, load_config
from ivr.store.sqlite import SqliteCallStore
from ivr.telephony.provider import (
    Admission,
    CallIdentity,
    CallStatusUpdate,
    MediaChannel,
)
from ivr.telephony.twilio.adapter import TwilioAdapter
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, TwilioSignatureValidator, sign
from ivr.web import telephony_routes
from ivr.web.security import check_api
from ivr.web.services import Services

AUTH_TOKEN = "twilio-auth-token-for-tests"
PUBLIC_URL = "https://ivr.example.com"
FORM = {"CallSid": "CA" + "1" * 32, "From": "+8613800000000", "To": "+8610000000",
        "CallStatus": "ringing"}


def lan_address() -> str | None:
    """A non-loopback IPv4 address of this machine (clients from it are not loopback)."""
    for addrs in psutil.net_if_addrs().values():
        for addr in addrs:
            if addr.family == socket.AF_INET and not ipaddress.ip_address(addr.address).is_loopback:
                return str(addr.address)
    return None


class AlwaysReady:
    def ready(self) -> tuple[bool, str]:
        return True, ""

    def parts(self) -> dict[str, str]:
        return {}


class AcceptAll:
    """A call sink that takes every call and ends every stream at once."""

    async def call_arrived(self, identity: CallIdentity) -> Admission:
        return Admission(True, "zh", {"lang": "zh"})

    async def call_status(self, provider: str, update: CallStatusUpdate) -> None:
        return None

    async def media_connected(self, channel: MediaChannel) -> None:
        await channel.close()


@dataclass
class Server:
    port: int
    services: Services
    validator: TwilioSignatureValidator | None

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


MakeServer = Callable[[dict[str, str]], Awaitable[Server]]


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[MakeServer]:
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def make(env: dict[str, str]) -> Server:
        config: Config = load_config(None, {"IVR_SERVER_PUBLIC_URL": PUBLIC_URL, **env})
        store = await SqliteCallStore.open(tmp_path / f"{len(cleanups)}.sqlite3")
        cleanups.append(store.close)
        validator = (
            None if config.twilio.insecure_skip_signature
            else TwilioSignatureValidator(config.twilio.auth_token, config.server.public_url)
        )
        services = Services(config=config, store=store, readiness=AlwaysReady(),
                            prompts=load_prompts(), prompt_audio={})
        adapter = TwilioAdapter(public_url=config.server.public_url, validator=validator)
        await adapter.start(AcceptAll())

        async def api(request: web.Request) -> web.Response:
            check_api(services, request)
            return web.Response(text=f"hello {request.remote}")

        app = web.Application()
        app.router.add_get("/api/calls", api)
        telephony_routes.setup(app, [adapter])
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "0.0.0.0", 0)
        await site.start()
        cleanups.append(runner.cleanup)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return Server(port, services, validator)

    yield make
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def status(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> int:
    async with http.request(method, url, **kw) as resp:
        await resp.read()
        return resp.status


# ------------------------------------------------------------------------------------ API


async def test_api_without_token_is_closed_even_to_loopback(
        make_server: MakeServer, http: aiohttp.ClientSession) -> None:
    server = await make_server({"IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    async with http.get(server.url("127.0.0.1", "/api/calls")) as resp:
        assert resp.status == 401
    # Any token is wrong when the server has none configured.
    headers = {"Authorization": "Bearer whatever"}
    assert await status(http, "GET", server.url("127.0.0.1", "/api/calls"),
                        headers=headers) == 401


async def test_api_without_token_refuses_other_clients(make_server: MakeServer,
                                                       http: aiohttp.ClientSession) -> None:
    lan = lan_address()
    if lan is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    server = await make_server({"IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    async with http.get(server.url(lan, "/api/calls")) as resp:
        assert resp.status == 401


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "api-secret"}, 401),
        ({"Authorization": "Basic YXBpLXNlY3JldA=="}, 401),
        ({"Authorization": "Bearer api-secret"}, 200),
    ],
)
async def test_api_token_is_required_even_on_loopback(
    make_server: MakeServer, http: aiohttp.ClientSession, headers: dict[str, str], expected: int
) -> None:
    server = await make_server({"IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                "IVR_SERVER_API_TOKEN": "api-secret"})
    got = await status(http, "GET", server.url("127.0.0.1", "/api/calls"), headers=headers)
    assert got == expected


async def test_api_token_opens_the_api_to_other_clients(make_server: MakeServer,
                                                        http: aiohttp.ClientSession) -> None:
    lan = lan_address()
    if lan is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    server = await make_server({"IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                "IVR_SERVER_API_TOKEN": "api-secret"})
    url = server.url(lan, "/api/calls")
    assert await status(http, "GET", url) == 401
    async with http.get(url, headers={"Authorization": "Bearer api-secret"}) as resp:
        assert resp.status == 200
        assert await resp.text() == f"hello {lan}"


# ------------------------------------------------------------------------------- webhooks


@pytest.fixture
async def signed_server(make_server: MakeServer) -> Server:
    return await make_server({"IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN})


async def test_webhook_with_valid_signature(signed_server: Server,
                                            http: aiohttp.ClientSession) -> None:
    path = "/twilio/voice?lang=en&customer=42"
    signature = sign(PUBLIC_URL + path, FORM, AUTH_TOKEN)
    got = await status(http, "POST", signed_server.url("127.0.0.1", path), data=FORM,
                       headers={SIGNATURE_HEADER: signature})
    assert got == 200


@pytest.mark.parametrize(
    ("signed_url", "form", "token"),
    [
        ("http://127.0.0.1/twilio/voice", FORM, AUTH_TOKEN),  # the Host the server sees
        (PUBLIC_URL + "/twilio/voice?lang=zh", FORM, AUTH_TOKEN),  # query tampered
        (PUBLIC_URL + "/twilio/voice?lang=en", {**FORM, "From": "+1555"}, AUTH_TOKEN),
        (PUBLIC_URL + "/twilio/voice?lang=en", FORM, "another-token"),
    ],
    ids=["internal-url", "other-query", "other-form", "other-token"],
)
async def test_webhook_with_wrong_signature_is_forbidden(
    signed_server: Server, http: aiohttp.ClientSession, signed_url: str,
    form: dict[str, str], token: str
) -> None:
    signature = sign(signed_url, form, token)
    async with http.post(signed_server.url("127.0.0.1", "/twilio/voice?lang=en"), data=FORM,
                         headers={SIGNATURE_HEADER: signature}) as resp:
        assert resp.status == 403
        assert await resp.text() == "invalid signature\n"


async def test_webhook_without_signature_is_forbidden(signed_server: Server,
                                                      http: aiohttp.ClientSession) -> None:
    assert await status(http, "POST", signed_server.url("127.0.0.1", "/twilio/voice"),
                        data=FORM) == 403


async def test_insecure_skip_signature_accepts_unsigned(make_server: MakeServer,
                                                        http: aiohttp.ClientSession) -> None:
    server = await make_server({"IVR_TWILIO_INSECURE_SKIP_SIGNATURE": "true"})
    assert server.validator is None
    assert await status(http, "POST", server.url("127.0.0.1", "/twilio/voice"),
                        data=FORM) == 200
    assert await ws_status(http, server.url("127.0.0.1", "/twilio/media"), {}) == 101


async def test_media_socket_signature(signed_server: Server,
                                      http: aiohttp.ClientSession) -> None:
    path = "/twilio/media"
    url = signed_server.url("127.0.0.1", path)
    good = sign("wss://ivr.example.com" + path, {}, AUTH_TOKEN)
    assert await ws_status(http, url, {SIGNATURE_HEADER: good}) == 101
    port_spelled = sign("wss://ivr.example.com:443" + path, {}, AUTH_TOKEN)
    assert await ws_status(http, url, {SIGNATURE_HEADER: port_spelled}) == 101
    https = sign(PUBLIC_URL + path, {}, AUTH_TOKEN)
    assert await ws_status(http, url, {SIGNATURE_HEADER: https}) == 403
    assert await ws_status(http, url, {}) == 403


async def ws_status(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> int:
    """101 when the WebSocket upgrade was accepted, else the refusal's HTTP status."""
    try:
        async with http.ws_connect(url.replace("http://", "ws://"), headers=headers):
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
