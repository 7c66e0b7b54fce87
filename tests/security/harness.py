"""An in-process IVR web app for attack tests: the real ``ivr.app.web_app`` (guard middleware,
every route), real SQLite stores, real agents/queue/customers, served by aiohttp on loopback.
Calls get a small echo session (media in -> same audio out) instead of the full call stack:
these tests are about who may reach what, not about dialogues."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
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
from ivr.app import stream_tickets, web_app
from ivr.call.prompts import load_prompts
from ivr.call.session import CallInfo
from ivr.config import Config, load_config
from ivr.customers.service import CustomerService
from ivr.store.agents import SqliteAgentStore
from ivr.store.customers import SqliteCustomerStore
from ivr.store.sqlite import SqliteCallStore
from ivr.telephony.base import MediaCodec
from ivr.telephony.twilio_media import TwilioMediaCodec
from ivr.telephony.twilio_signature import TwilioSignatureValidator
from ivr.web.keys import SERVICES
from ivr.web.media_limits import SocketGate
from ivr.web.services import Services
from tests.campaigns.helpers import harness as campaign_harness

AUTH_TOKEN = "twilio-auth-token-for-tests"
API_TOKEN = "api-token-for-tests"
PUBLIC_URL = "https://ivr.example.com"
Client = TestClient[web.Request, web.Application]


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
class EchoSession:
    """Stands in for a call session: records what arrives, echoes caller audio back."""

    info: CallInfo
    codec: MediaCodec
    send: Callable[[str], Awaitable[None]]
    close: Callable[[], Awaitable[None]]
    media: list[bytes] = field(default_factory=list)
    outcome: Any = None
    dtmf: list[str] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self) -> None:
        await self.ended.wait()

    def on_media(self, ulaw: bytes) -> None:
        self.media.append(ulaw)
        task = asyncio.get_running_loop().create_task(
            self.send(self.codec.media(self.info.stream_sid, ulaw)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def on_dtmf(self, digit: str) -> None:
        self.dtmf.append(digit)

    def on_mark(self, name: str) -> None:
        pass

    def caller_hung_up(self) -> None:
        self.ended.set()

    def shutdown(self) -> None:
        self.ended.set()

    async def wait_ended(self) -> None:
        await self.ended.wait()


@dataclass
class Harness:
    client: Client
    services: Services
    config: Config
    calls: SqliteCallStore
    customers: SqliteCustomerStore
    agents: SqliteAgentStore
    sessions: list[EchoSession]
    clock: LoginClock

    @property
    def port(self) -> int:
        assert self.client.port is not None
        return self.client.port

    def http_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


@contextlib.asynccontextmanager
async def harness(tmp_path: Path, env: dict[str, str] | None = None,
                  middlewares: tuple[Any, ...] = (),
                  sessions_from: Callable[[Services], Any] | None = None,
                  ) -> AsyncIterator[Harness]:
    port = free_port()
    values = {"IVR_SERVER_PUBLIC_URL": PUBLIC_URL, "IVR_SERVER_PORT": str(port),
              "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SERVER_DATA_DIR": str(tmp_path),
              "IVR_SERVER_INTERNAL_TOKEN": "internal-token-for-tests"}
    values.update(env or {})
    config = load_config(None, values)
    path = tmp_path / "ivr.sqlite3"
    stack = contextlib.AsyncExitStack()
    campaigns = await stack.enter_async_context(campaign_harness(tmp_path, db=path))
    calls = await SqliteCallStore.open(path)
    customers = await SqliteCustomerStore.open(path)
    agents = await SqliteAgentStore.open(path)
    sessions: list[EchoSession] = []
    clock = LoginClock()
    directory = AgentDirectory(agents)
    logins = LoginGuard(directory, agents, b"device-key-for-tests-0123456789ab",
                        Backoff(config.agents.login_backoff_base_s,
                                config.agents.login_backoff_max_s), clock=clock)

    def new_session(info: CallInfo, codec: MediaCodec, send: Callable[[str], Awaitable[None]],
                    close: Callable[[], Awaitable[None]]) -> Any:
        session = EchoSession(info, codec, send, close)
        sessions.append(session)
        return session

    services = Services(
        config=config, store=calls, codec=TwilioMediaCodec(),
        validator=TwilioSignatureValidator(AUTH_TOKEN, config.server.public_url),
        readiness=AlwaysReady(),
        prompts=load_prompts(), prompt_audio={}, new_session=cast(Any, new_session),
        customers=CustomerService(customers), queue=AgentQueue(agents),
        agents=directory, logins=logins, campaigns=campaigns.service,
        tickets=stream_tickets(config), media_gate=SocketGate(config.server.max_media_sockets),
    )
    if sessions_from is not None:  # a real session factory built on these services
        services.new_session = sessions_from(services)
    app = web_app(config)
    for middleware in reversed(middlewares):
        app.middlewares.insert(0, middleware)
    app[SERVICES] = services
    client: Client = TestClient(TestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    try:
        yield Harness(client, services, config, calls, customers, agents, sessions, clock)
    finally:
        for session in sessions:
            session.shutdown()
        await client.close()
        for store in (agents, customers, calls):
            await store.close()
        await stack.aclose()
