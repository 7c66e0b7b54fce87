"""Agent accounts, password hashes, dashboard sessions and the failed-login limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.agents.accounts import AgentDirectory
from ivr.agents.model import Presence, Role
from ivr.agents.passwords import hash_password, verify_password
from ivr.agents.sessions import SessionPolicy
from ivr.core.errors import StoreError
from ivr.core.types import Language
from ivr.store.agents import SqliteAgentStore
from ivr.telephony.base import TransferKind, TransferTarget
from tests.agents.support import PASSWORD, target


def test_password_hash_is_salted_and_verifies() -> None:
    one, two = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert one != two and one.startswith("scrypt$16384$8$1$")
    assert verify_password("s3cret-pass", one) and verify_password("s3cret-pass", two)
    assert not verify_password("s3cret-pasS", one)
    assert not verify_password("s3cret-pass", "scrypt$garbage")
    assert not verify_password("s3cret-pass", "md5$1$2$3$4$5")


async def test_add_authenticate_and_lookups(directory: AgentDirectory) -> None:
    agent = await directory.add("Alice", PASSWORD, display_name="Alice Wu", target=target(),
                                languages=["zh", "en"], role="supervisor")
    assert agent.username == "alice" and agent.role is Role.SUPERVISOR
    assert agent.languages == (Language.ZH, Language.EN) and agent.presence is Presence.AWAY
    assert agent.target == TransferTarget(TransferKind.PHONE, "+8613800000001")
    assert "13800000001" not in repr(agent)
    assert await directory.authenticate("ALICE", PASSWORD) == agent
    assert await directory.authenticate("alice", PASSWORD + "x") is None
    assert await directory.authenticate("nobody", PASSWORD) is None
    assert await directory.get(agent.id) == agent
    assert await directory.by_username("alice") == agent


async def test_invalid_accounts_are_refused(directory: AgentDirectory) -> None:
    await directory.add("bob", PASSWORD, display_name="Bob", target=target(), languages=["en"])
    with pytest.raises(StoreError, match="already exists"):
        await directory.add("BOB", PASSWORD, display_name="Bob 2", target=target(),
                            languages=["en"])
    for kwargs in ({"languages": []}, {"languages": ["fr"]}, {"display_name": " "}):
        args = {"display_name": "C", "target": target(), "languages": ["zh"], **kwargs}
        with pytest.raises(ValueError):
            await directory.add("carol", PASSWORD, **args)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await directory.add("bad name!", PASSWORD, display_name="D", target=target(),
                            languages=["zh"])
    with pytest.raises(ValueError):
        await directory.add("dave", "short", display_name="D", target=target(),
                            languages=["zh"])


async def test_presence_and_routing_by_language(directory: AgentDirectory) -> None:
    zh = await directory.add("zh1", PASSWORD, display_name="Z", target=target(1),
                             languages=["zh"])
    both = await directory.add("both", PASSWORD, display_name="B", target=target(2),
                               languages=["zh", "en"])
    await directory.add("en1", PASSWORD, display_name="E", target=target(3), languages=["en"])
    assert await directory.available_for("zh") == []
    await directory.set_presence(zh.id, "available")
    await directory.set_presence(both.id, Presence.AVAILABLE)
    assert [a.username for a in await directory.available_for(Language.ZH)] == ["both", "zh1"]
    assert [a.username for a in await directory.available_for("en")] == ["both"]
    await directory.set_presence(both.id, "busy")
    assert await directory.available_for("en") == []
    assert [a.presence.value for a in await directory.list()] == ["busy", "away", "available"]
    with pytest.raises(ValueError):
        await directory.set_presence(zh.id, "asleep")


async def test_sessions_expire_when_idle_or_old(agent_store: SqliteAgentStore) -> None:
    now = [datetime(2024, 5, 1, 9, 0, tzinfo=UTC)]
    policy = SessionPolicy(idle_s=600, max_age_s=3600)
    directory = AgentDirectory(agent_store, clock=lambda: now[0], session_policy=policy)
    agent = await directory.add("eve", PASSWORD, display_name="Eve", target=target(),
                                languages=["zh"])
    token, live = await directory.sessions.start(agent)
    assert len(token) >= 43 and live.csrf and live.token_hash != token
    for _ in range(5):  # kept alive by use ...
        now[0] += timedelta(seconds=500)
        resumed = await directory.sessions.resume(token)
        assert resumed is not None and resumed.agent == agent and resumed.csrf == live.csrf
    now[0] += timedelta(seconds=1200)  # ... but not past its maximum age
    assert await directory.sessions.resume(token) is None
    token, live = await directory.sessions.start(agent)
    now[0] += timedelta(seconds=601)
    assert await directory.sessions.resume(token) is None
    token, live = await directory.sessions.start(agent)
    await directory.sessions.end(live)
    assert await directory.sessions.resume(token) is None
    assert await directory.sessions.resume("") is None


