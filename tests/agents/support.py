"""Shared by the agent, dashboard and browser tests: real stores on one SQLite file, a small
real HandoffService, and the dashboard mounted on an aiohttp app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.agents.accounts import Agent, AgentDirectory
from ivr.agents.login import LoginGuard
from ivr.agents.queue import AgentQueue, QueueStatus
from ivr.agents.sessions import SessionPolicy
from ivr.agents.throttle import Backoff
from ivr.call.prompts import PromptBook
from ivr.config import Config, ServerConfig
from ivr.customers.service import CustomerService
from ivr.store.agents import SqliteAgentStore
from ivr.store.customers import SqliteCustomerStore
from ivr.store.sqlite import SqliteCallStore
from ivr.telephony.base import TransferKind, TransferTarget
from ivr.web import dashboard
from ivr.web.keys import SERVICES
from ivr.web.services import Services

PASSWORD = "correct horse battery"
DEVICE_KEY = b"k" * 32


class DirectHandoff:
    """Accept = take the entry and mark it transferred (the real one also moves the call)."""

    def __init__(self, queue: AgentQueue) -> None:
        self.queue = queue
        self.accepted: list[tuple[int, int]] = []

    async def accept(self, entry_id: int, agent: Agent) -> None:
        entry = await self.queue.accept(entry_id, agent.id)
        self.accepted.append((entry_id, agent.id))
        await self.queue.finish(entry.call_sid, QueueStatus.TRANSFERRED)


class _Ready:
    def ready(self) -> tuple[bool, str]:
        return True, ""

    def parts(self) -> dict[str, str]:
        return {}


def target(n: int = 1) -> TransferTarget:
    return TransferTarget(TransferKind.PHONE, f"+861380000{n:04d}")


@dataclass
class Env:
    app: web.Application
    services: Services
    calls: SqliteCallStore
    customers: SqliteCustomerStore
    agent_store: SqliteAgentStore
    queue: AgentQueue
    agents: AgentDirectory
    handoff: DirectHandoff


@contextlib.asynccontextmanager
async def dashboard_env(tmp_path: Path, public_url: str = "http://127.0.0.1:8080",
                        policy: SessionPolicy | None = None,
                        backoff: Backoff | None = None) -> AsyncIterator[Env]:
    path = tmp_path / "ivr.db"
    calls = await SqliteCallStore.open(path)
    customers = await SqliteCustomerStore.open(path)
    agent_store = await SqliteAgentStore.open(path)
    queue = AgentQueue(agent_store)
    agents = AgentDirectory(agent_store, session_policy=policy)
    handoff = DirectHandoff(queue)
    services = Services(
        config=Config(server=ServerConfig(public_url=public_url)), store=calls,
        readiness=_Ready(), prompts=PromptBook({}),
        prompt_audio={}, customers=CustomerService(customers),
        handoff=handoff, queue=queue, agents=agents,
        logins=LoginGuard(agents, agent_store, DEVICE_KEY, backoff))
    app = web.Application()
    app[SERVICES] = services
    dashboard.setup(app)
    try:
        yield Env(app, services, calls, customers, agent_store, queue, agents, handoff)
    finally:
        await agent_store.close()
        await customers.close()
        await calls.close()


def card(name: str = "张三丰", phone: str = "138****5678", **extra: Any) -> dict[str, Any]:
    """A context card as the handoff builds it."""
    return {"customer": {"customer_id": "c-001", "name": name, "title": None,
                         "phone_masked": phone, "card_last4": "0123", "city": "上海"},
            "confirmed_fields": ["city"], "faq_topics": ["activation"], "rating": 2, **extra}
