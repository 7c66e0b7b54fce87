"""RasaBridge against a loopback server speaking Rasa's REST webhook format."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ivr.core.errors import DialogueError, ErrorCode
from ivr.core.types import Expectation
from ivr.dialogue.bridge import RasaBridge
from ivr.dialogue.turns import Utterance

SID = "CAfeedface0000000000000000000000"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeRasa:
    """Rasa's REST channel and /status; records what it received. Behaviour is swappable."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    delay_s: float = 0.0
    webhook: Handler | None = None
    status: Handler | None = None

    async def handle_webhook(self, request: web.Request) -> web.StreamResponse:
        self.headers.append(dict(request.headers))
        self.received.append(await request.json())
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.webhook is not None:
            return await self.webhook(request)
        body = self.received[-1]
        sender = body["sender"]
        # What Rasa sends for utter_ask_identity: text first, then the custom payload.
        return web.json_response(
            [
                {"recipient_id": sender, "text": f"echo: {body['message']}"},
                {"recipient_id": sender, "custom": {"expect": "yes_no"}},
            ]
        )

    async def handle_status(self, request: web.Request) -> web.StreamResponse:
        if self.status is not None:
            return await self.status(request)
        return web.json_response(
            {"model_file": "models/ivr.tar.gz", "model_id": "abc123", "num_active_training_jobs": 0}
        )


async def _serve(fake: FakeRasa) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/webhooks/ivr/webhook", fake.handle_webhook)
    app.router.add_get("/status", fake.handle_status)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    return runner


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa()
    runner = await _serve(fake)
    yield fake
    await runner.cleanup()


@pytest.fixture
async def two_rasas() -> AsyncIterator[tuple[FakeRasa, FakeRasa]]:
    fakes = (FakeRasa(), FakeRasa())
    runners = [await _serve(fake) for fake in fakes]
    yield fakes
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_send_posts_sender_message_metadata_and_parses_reply(
    rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    bridge = RasaBridge(http, rasa.url + "/", timeout_s=2)  # trailing slash tolerated
    metadata = {"language": "en", "customer_id": "c-42", "call_sid": SID}
    reply = await bridge.send(SID, "/call_start", metadata)
    assert rasa.received == [{"sender": SID, "message": "/call_start", "metadata": metadata}]
    assert rasa.headers[0]["Content-Type"].startswith("application/json")
    assert reply.turn.utterances == (Utterance("echo: /call_start"),)
    assert reply.turn.expect is Expectation.YES_NO
    assert reply.elapsed_ms >= 0


async def test_the_secret_goes_in_a_header_and_the_status_token(
    rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    seen: list[str] = []

    async def status(request: web.Request) -> web.StreamResponse:
        seen.append(request.query.get("token", ""))
        return web.json_response({"model_file": "m.tar.gz"})

    rasa.status = status
    bridge = RasaBridge(http, rasa.url, timeout_s=2, token="s3cret")
    await bridge.send(SID, "/call_start")
    assert rasa.headers[0]["X-IVR-Rasa-Token"] == "s3cret"
    assert await bridge.healthy() and seen == ["s3cret"]
    assert "s3cret" not in repr(bridge)


async def test_each_call_uses_its_own_sender_and_metadata_defaults_to_empty(
    rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    bridge = RasaBridge(http, rasa.url, timeout_s=2)
    await bridge.send("CA-one", "是")
    await bridge.send("CA-two", "不是", {"language": "zh"})
    assert rasa.received == [
        {"sender": "CA-one", "message": "是", "metadata": {}},
        {"sender": "CA-two", "message": "不是", "metadata": {"language": "zh"}},
    ]


@pytest.mark.parametrize(("said", "sent"), [
    ("帮 我 转 人 工", "帮我转人工"),
    ("一 二 三 四", "1234"),
    ("one two three four", "1234"),
    ("不 满 意", "不满意"),
    ("/inform_digits{\"digits\": \"1 2\"}", "/inform_digits{\"digits\": \"1 2\"}"),
    ("/rate{\"rating\": 4}", "/rate{\"rating\": 4}"),
])
async def test_caller_text_is_normalised_intent_messages_are_not(
    rasa: FakeRasa, http: aiohttp.ClientSession, said: str, sent: str
) -> None:
    await RasaBridge(http, rasa.url, timeout_s=2).send(SID, said, {"asr_confidence": 0.42})
    assert rasa.received == [{"sender": SID, "message": sent,
                              "metadata": {"asr_confidence": 0.42}}]


async def test_empty_reply_list_is_an_empty_turn(
    rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    async def empty(request: web.Request) -> web.StreamResponse:
        return web.json_response([])

    rasa.webhook = empty
    reply = await RasaBridge(http, rasa.url, 2).send(SID, "/thanks")
    assert reply.turn.utterances == () and reply.turn.expect is None


async def test_elapsed_measures_the_round_trip(
    rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    rasa.delay_s = 0.2
    reply = await RasaBridge(http, rasa.url, 2).send(SID, "hi")
    assert 180 <= reply.elapsed_ms < 1500


async def test_timeout(rasa: FakeRasa, http: aiohttp.ClientSession) -> None:
    rasa.delay_s = 2.0
    bridge = RasaBridge(http, rasa.url, timeout_s=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DialogueError) as info:
        await bridge.send(SID, "hello")
    assert info.value.code is ErrorCode.DIALOGUE_TIMEOUT
    assert loop.time() - started < 1.5
    assert isinstance(info.value.__cause__, TimeoutError)


async def test_connection_refused(http: aiohttp.ClientSession) -> None:
    bridge = RasaBridge(http, f"http://127.0.0.1:{free_port()}", timeout_s=2)
    with pytest.raises(DialogueError) as info:
        await bridge.send(SID, "hello")
    assert info.value.code is ErrorCode.DIALOGUE_UNAVAILABLE
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_http_500_is_bad_response(rasa: FakeRasa, http: aiohttp.ClientSession) -> None:
    async def boom(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "failure", "message": "oops"}, status=500)

    rasa.webhook = boom
    with pytest.raises(DialogueError) as info:
        await RasaBridge(http, rasa.url, 2).send(SID, "hello")
    assert info.value.code is ErrorCode.DIALOGUE_BAD_RESPONSE
    assert "500" in str(info.value)


async def test_non_json_is_bad_response(rasa: FakeRasa, http: aiohttp.ClientSession) -> None:
    async def html(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html>Bad Gateway</html>", content_type="text/html")

    rasa.webhook = html
    with pytest.raises(DialogueError) as info:
        await RasaBridge(http, rasa.url, 2).send(SID, "hello")
    assert info.value.code is ErrorCode.DIALOGUE_BAD_RESPONSE


async def test_json_of_the_wrong_shape_is_bad_response(
    rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    async def obj(request: web.Request) -> web.StreamResponse:
        return web.json_response({"recipient_id": SID, "text": "not in a list"})

    rasa.webhook = obj
    with pytest.raises(DialogueError) as info:
        await RasaBridge(http, rasa.url, 2).send(SID, "hello")
    assert info.value.code is ErrorCode.DIALOGUE_BAD_RESPONSE


async def test_server_dropping_the_connection_is_unavailable(
    rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.1)
        return web.Response()

    rasa.webhook = drop
    with pytest.raises(DialogueError) as info:
        await RasaBridge(http, rasa.url, 2).send(SID, "hello")
    assert info.value.code is ErrorCode.DIALOGUE_UNAVAILABLE


async def test_cancellation_is_not_swallowed(rasa: FakeRasa, http: aiohttp.ClientSession) -> None:
    rasa.delay_s = 2.0
    task = asyncio.create_task(RasaBridge(http, rasa.url, 5).send(SID, "hello"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# -------------------------------------------------------------------------------- healthy()


async def test_healthy_with_a_loaded_model(rasa: FakeRasa, http: aiohttp.ClientSession) -> None:
    assert await RasaBridge(http, rasa.url, 2).healthy() is True


@pytest.mark.parametrize(
    "respond",
    [
        lambda: web.json_response({"model_file": None, "model_id": None}),
        lambda: web.json_response({"model_file": "m.tar.gz"}, status=503),
        lambda: web.Response(text="starting", content_type="text/plain"),
        lambda: web.Response(text="{not json", content_type="application/json"),
        lambda: web.json_response(["model_file"]),
    ],
    ids=["no-model", "http-503", "not-json", "broken-json", "json-list"],
)
async def test_unhealthy_answers(
    rasa: FakeRasa, http: aiohttp.ClientSession, respond: Callable[[], web.Response]
) -> None:
    async def status(request: web.Request) -> web.StreamResponse:
        return respond()

    rasa.status = status
    assert await RasaBridge(http, rasa.url, 2).healthy() is False


async def test_not_healthy_when_nothing_listens(http: aiohttp.ClientSession) -> None:
    assert await RasaBridge(http, f"http://127.0.0.1:{free_port()}", 2).healthy() is False


async def test_several_rasa_servers_each_call_always_reaches_the_same_one(
    two_rasas: tuple[FakeRasa, FakeRasa], http: aiohttp.ClientSession
) -> None:
    """rasa.servers > 1: a conversation lives in one server process, so every turn of a call
    goes there; different calls spread over all of them."""
    first, second = two_rasas
    bridge = RasaBridge(http, [first.url, second.url], timeout_s=2)
    senders = [f"CA{i:032x}" for i in range(40)]
    for _ in range(3):
        for sender in senders:
            await bridge.send(sender, "/call_start")
    seen = {fake.url: {body["sender"] for body in fake.received} for fake in two_rasas}
    assert not seen[first.url] & seen[second.url]  # no call on both
    assert seen[first.url] | seen[second.url] == set(senders)
    assert min(len(seen[first.url]), len(seen[second.url])) >= 10  # spread, not all on one
    assert all(bridge.base_for(s) in (first.url, second.url) for s in senders)


async def test_several_rasa_servers_healthy_only_when_all_are(
    two_rasas: tuple[FakeRasa, FakeRasa], http: aiohttp.ClientSession
) -> None:
    first, second = two_rasas
    bridge = RasaBridge(http, [first.url, second.url], timeout_s=2)
    assert await bridge.healthy()

    async def no_model(request: web.Request) -> web.StreamResponse:
        return web.json_response({"model_file": None})

    second.status = no_model
    assert not await bridge.healthy()
    assert not await RasaBridge(http, [first.url, f"http://127.0.0.1:{free_port()}"],
                                timeout_s=2).healthy()
