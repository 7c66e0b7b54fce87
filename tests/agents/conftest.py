from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.agents.accounts import AgentDirectory
from ivr.agents.queue import AgentQueue
from ivr.store.agents import SqliteAgentStore


@pytest.fixture
async def agent_store(tmp_path: Path) -> AsyncIterator[SqliteAgentStore]:
    async with await SqliteAgentStore.open(tmp_path / "ivr.db") as store:
        yield store


@pytest.fixture
def queue(agent_store: SqliteAgentStore) -> AgentQueue:
    return AgentQueue(agent_store)


@pytest.fixture
def directory(agent_store: SqliteAgentStore) -> AgentDirectory:
    return AgentDirectory(agent_store)
