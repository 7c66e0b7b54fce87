"""Helpers for the dashboard tests: a logged-in aiohttp test client and an SSE reader."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

Client = TestClient[web.Request, web.Application]
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_DATA = re.compile(r'data-csrf="([^"]+)"')


async def login_form_token(client: Client) -> str:
    page = await client.get("/dashboard/login")
    match = _CSRF_FIELD.search(await page.text())
    assert match is not None
    return match.group(1)


async def login(client: Client, username: str, password: str) -> ClientResponse:
    token = await login_form_token(client)
    return await client.post("/dashboard/login", allow_redirects=False,
                             data={"username": username, "password": password,
                                   "csrf_token": token})


async def logged_in(client: Client, username: str, password: str) -> str:
    """Log in; return the session's CSRF token from the dashboard page."""
    response = await login(client, username, password)
    assert response.status == 303, await response.text()
    page = await client.get("/dashboard/")
    match = _CSRF_DATA.search(await page.text())
    assert match is not None
    return match.group(1)


async def next_event(response: ClientResponse) -> tuple[str, Any]:
    """The next named event of a text/event-stream (comments and retry lines skipped)."""
    while True:
        block = (await response.content.readuntil(b"\n\n")).decode()
        name, data = "", ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if name:
            return name, json.loads(data)


async def event_named(response: ClientResponse, wanted: str) -> Any:
    while True:
        name, data = await next_event(response)
        if name == wanted:
            return data
