"""An in-process IVR web app for attack tests: the real ``ivr.app.web_app`` (guard middleware,
every route, the Twilio adapter served by the neutral telephony routes), the real call hub
(admission, stream binding, per-call bounds), real SQLite stores, agents, customers, served by
aiohttp on loopback.

Calls run on a small echo driver (caller audio back to the caller, digits and the end of the
stream recorded) unless ``real_calls`` is given: then the real call engine runs them with a
scripted dialogue (``RecordingDialogue``), short silent speech and no recognizer -- what these
tests need is who may reach what, not dialogues."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr.agents.accounts import AgentDirectory
from ivr.agents.login import LoginGuard
from ivr.agents.queue import AgentQueue
from ivr.agents.throttle import Backoff
from ivr.app import media_limits, web_app
from ivr.asr.base import AsrResult
from ivr.audio.endpoint import EndpointConfig
from ivr.call.admission import Admitter
from ivr.call.clock import LoopClock
from ivr.call.factory import DriverFactory
from ivr.call.hub import CallHub
from ivr.call.id_check import IdentityVerifier
from ivr.call.model import CallContext
from ivr.call.parts import CallParts
from ivr.call.policy import CallPolicy
from ivr.call.prompts import load_prompts
from ivr.config import Config, load_config
from ivr.core.audio import Pcm
from ivr.core.types import Expectation, Language
from ivr.customers.identity import IdPolicy
from ivr.customers.service import CustomerService
from ivr.dialogue.bridge import DialogueReply
from ivr.dialogue.turns import parse_bot_messages
from ivr.store.agents import SqliteAgentStore
from ivr.store.customers import SqliteCustomerStore
from ivr.store.sqlite import SqliteCallStore
from ivr.telephony.media import AudioIn, DigitIn, MediaChannel, MediaStart, StreamEnded
from ivr.telephony.twilio.adapter import TwilioAdapter
from ivr.telephony.twilio.signature import TwilioSignatureValidator
from ivr.web.keys import SERVICES
from ivr.web.services import Services
from tests.campaigns.helpers import harness as campaign_harness
from tests.customers.customer_samples import HASHER

AUTH_TOKEN = "twilio-auth-token-for-tests"
API_TOKEN = "api-token-for-tests"
PUBLIC_URL = "https://ivr.example.com"
Client = TestClient[web.Request, web.Application]
ASK_ID = [{"text": "请说出身份证号码的最后四位"}, {"custom": {"expect": "digits"}}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoginClock:
    """The login back-off's clock: tests move it instead of waiting."""

    def __init__(self) -> None:
        self.now = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class AlwaysReady:
    def ready(self) -> tuple[bool, str]:
        return True, ""

    def parts(self) -> dict[str, str]:
        return {}


@dataclass
class EchoDriver:
    """Stands in for a call's driver: caller audio goes back to the caller; what arrived and
    how the stream ended are kept; a stream closed for misbehaviour fails the call record."""

    call: CallContext
    channel: MediaChannel
    store: SqliteCallStore
    audio: list[bytes] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    end: StreamEnded | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def info(self) -> CallContext:
        return self.call

    async def run(self) -> None:
        try:
            async for event in self.channel.events():
                if isinstance(event, AudioIn):
                    self.audio.append(event.pcm)
                    await self.channel.send_audio(event.pcm)
                elif isinstance(event, DigitIn):
                    self.digits.append(event.digit)
                elif isinstance(event, StreamEnded):
                    self.end = event
                    break
            if self.end is not None and self.end.error:
                await self.store.update_call(self.call.call_id, error_code=self.end.error,
                                             ended_at=datetime.now(UTC))
        finally:
            await self.channel.close()
            self.done.set()

    def shutdown(self) -> None:
        asyncio.get_running_loop().create_task(self.channel.close())

    async def wait_ended(self) -> None:
        await self.done.wait()


class RecordingDialogue:
    """The dialogue: records every message; always asks for the ID."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def send(self, sender: str, message: str,
                   metadata: Mapping[str, Any] | None = None) -> DialogueReply:
        self.messages.append(message)
        return DialogueReply(parse_bot_messages(ASK_ID), 1.0)


class ShortSpeech:
    async def stream(self, text: str, lang: Language) -> AsyncIterator[Pcm]:
        yield Pcm(b"\x00\x00" * 160, 8000)


class NoAsr:
    def open_stream(self, lang: Language, expect: Expectation, rate: int) -> Any:
        class Stream:
            def accept(self, pcm16: bytes) -> AsrResult | None:
                return None

            def finish(self) -> AsrResult:
                return AsrResult("", True)

        return Stream()


class NoHandoff:
    async def handoff(self, call: Any, handoff: Any) -> None:
        raise AssertionError("no handoff here")


@dataclass
class Harness:
    client: Client
    services: Services
    config: Config
    calls: SqliteCallStore
    customers: SqliteCustomerStore
    agents: SqliteAgentStore
    hub: CallHub
    drivers: list[EchoDriver]
    clock: LoginClock
    dialogue: RecordingDialogue

    @property
    def port(self) -> int:
        assert self.client.port is not None
        return self.client.port

    def http_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


def _real_factory(services: Services, calls: SqliteCallStore, customers: SqliteCustomerStore,
                  dialogue: RecordingDialogue, executor: ThreadPoolExecutor) -> DriverFactory:
    verifier = IdentityVerifier(customers, HASHER, IdPolicy(max_failures=2, cooldown_s=3600),
                                calls=calls, metrics=services.metrics)
    parts = CallParts(store=calls, verifier=verifier, handoff=NoHandoff(),
                      prompts=services.prompts, metrics=services.metrics, clock=LoopClock())
    return DriverFactory(parts=parts, engine=NoAsr(), executor=executor, dialogue=dialogue,
                         speech=ShortSpeech(), policy=CallPolicy(inter_digit_s=1.0),
                         endpoint=EndpointConfig(), vad_aggressiveness=2)


@contextlib.asynccontextmanager
async def harness(tmp_path: Path, env: dict[str, str] | None = None,
                  middlewares: tuple[Any, ...] = (), real_calls: bool = False,
                  ) -> AsyncIterator[Harness]:
    port = free_port()
    values = {"IVR_SERVER_PUBLIC_URL": PUBLIC_URL, "IVR_SERVER_PORT": str(port),
              "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SERVER_DATA_DIR": str(tmp_path),
              "IVR_SERVER_INTERNAL_TOKEN": "internal-token-for-tests",
              "IVR_SERVER_API_TOKEN": ""}
    values.update(env or {})
    config = load_config(None, values)
    path = tmp_path / "ivr.sqlite3"
    stack = contextlib.AsyncExitStack()
    campaigns = await stack.enter_async_context(campaign_harness(tmp_path, db=path))
    calls = await SqliteCallStore.open(path)
    customers = await SqliteCustomerStore.open(path)
    agents = await SqliteAgentStore.open(path)
    executor = ThreadPoolExecutor(1)
    drivers: list[EchoDriver] = []
    clock = LoginClock()
    dialogue = RecordingDialogue()
    directory = AgentDirectory(agents)
    logins = LoginGuard(directory, agents, b"device-key-for-tests-0123456789ab",
                        Backoff(config.agents.login_backoff_base_s,
                                config.agents.login_backoff_max_s), clock=clock)
    services = Services(
        config=config, store=calls, readiness=AlwaysReady(), prompts=load_prompts(),
        prompt_audio={}, customers=CustomerService(customers), queue=AgentQueue(agents),
        agents=directory, logins=logins, campaigns=campaigns.service,
    )

    def echo(call: CallContext, channel: MediaChannel, start: MediaStart,
             **_kw: Any) -> EchoDriver:
        drivers.append(EchoDriver(call, channel, calls))
        return drivers[-1]

    factory: Any = _real_factory(services, calls, customers, dialogue, executor) \
        if real_calls else echo
    hub = CallHub(
        admitter=Admitter(calls, AlwaysReady(), services.customers,
                          config.call.default_language, config.server.max_calls,
                          config.server.public_url),
        store=calls, metrics=services.metrics, new_driver=cast(DriverFactory, factory),
        campaigns=campaigns.service,
        limits=media_limits(config), start_timeout_s=config.server.stream_start_timeout_s,
        ticket_ttl_s=config.server.stream_token_ttl_s)
    services.calls = hub
    adapter = TwilioAdapter(public_url=config.server.public_url,
                            validator=TwilioSignatureValidator(AUTH_TOKEN,
                                                               config.server.public_url))
    await adapter.start(hub)
    app = web_app(config, [adapter])
    for middleware in reversed(middlewares):
        app.middlewares.insert(0, middleware)
    app[SERVICES] = services
    client: Client = TestClient(TestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    try:
        yield Harness(client, services, config, calls, customers, agents, hub, drivers, clock,
                      dialogue)
    finally:
        await hub.hang_up_all()
        await client.close()
        for store in (agents, customers, calls):
            await store.close()
        await stack.aclose()
        executor.shutdown(wait=False)
