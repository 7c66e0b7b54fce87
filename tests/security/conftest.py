from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.security.harness import API_TOKEN, Harness, harness


@pytest.fixture
async def open_api(tmp_path: Path) -> AsyncIterator[Harness]:
    """The default configuration: no server.api_token."""
    async with harness(tmp_path) as h:
        yield h


@pytest.fixture
async def plain_http(tmp_path: Path) -> AsyncIterator[Harness]:
    """No api_token; an http public URL, so dashboard cookies work with the test client."""
    async with harness(tmp_path, {"IVR_SERVER_PUBLIC_URL": "http://ivr.example.com"}) as h:
        yield h


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """server.api_token set."""
    async with harness(tmp_path, {"IVR_SERVER_API_TOKEN": API_TOKEN}) as value:
        yield value
