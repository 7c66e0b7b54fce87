"""Every registered route, called with valid credentials (API token, supervisor session with
its CSRF token, the internal secret) so the handlers themselves run, gets hostile path values,
queries and bodies: the answer is never a 5xx and nothing is logged as an error (issue 9:
"every malformed request gets a 4xx"). New routes are swept automatically.

Before: ``?offset=`` ≥ 2^63 on ``/api/calls`` or ``/api/followups`` and ``?since=`` without a time
zone were answered 500 here."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ivr.agents.model import Role
from ivr.telephony.base import TransferKind, TransferTarget
from tests.agents.dashboard_client import logged_in
from tests.security.harness import API_TOKEN, Harness, harness

CARD = "4111111111111111"
PATH_VALUES = [CARD, "-1", "9" * 30, "NaN", "%F0%9F%99%82", "x" * 600]
QUERIES = ["", "?" + "&".join(f"{k}={v}" for k, v in (
    ("limit", "9" * 30), ("offset", "9" * 30), ("since", "2024-05-01T08:00:00"),
    ("status", CARD), ("days", "-1e309")))]
JSON_BODIES: list[Any] = [
    {}, [1, 2], "text", 5, None,
    {"id": "c1", "name": CARD, "kind": "callback", "detail": {"x": CARD}, "due_in_hours": 1e308},
    {"id": "c2", "name": "n", "due_in_hours": -1e308, "kind": "callback", "policy": [1]},
    {"customer_ids": [CARD, 5, None], "notes": 12, "outcome": {"a": []}, "status": True},
    {"presence": "x" * 5000, "entry_id": CARD, "result": [[[[]]]], "confirmed_fields": 7},
]
RAW_BODIES = [b"{", b'{"id": "\xff"}', b"\x00" * 64]
ERROR_LOGGERS = ("ivr", "aiohttp")


def _paths(app: web.Application, prefix: str = "") -> Iterator[tuple[str, str]]:
    for resource in app.router.resources():
        info = resource.get_info()
        sub = info.get("app")
        if isinstance(sub, web.Application):
            yield from _paths(sub, prefix + str(info.get("prefix", "")))
            continue
        for route in resource:
            yield route.method, prefix + resource.canonical


def _concrete(template: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: ("CA" + value) if "sid" in m.group(0) else value,
                  template)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Harness, dict[str, str]]]:
    env = {"IVR_SERVER_API_TOKEN": API_TOKEN, "IVR_SERVER_PUBLIC_URL": "http://ivr.example.com"}
    async with harness(tmp_path, env) as h:
        assert h.services.agents is not None
        await h.services.agents.add("sup", "correct horse battery", display_name="sup",
                                    target=TransferTarget(TransferKind.PHONE, "+8613900001234"),
                                    languages=["zh"], role=Role.SUPERVISOR)
        csrf = await logged_in(h.client, "sup", "correct horse battery")
        headers = {"Authorization": f"Bearer {API_TOKEN}", "X-CSRF-Token": csrf,
                   "X-IVR-Internal-Token": "internal-token-for-tests",
                   "Origin": "http://ivr.example.com", "Host": "ivr.example.com"}
        yield h, headers


async def test_no_route_answers_hostile_input_with_a_5xx(
        site: tuple[Harness, dict[str, str]], caplog: pytest.LogCaptureFixture) -> None:
    h, headers = site
    routes = sorted(set(_paths(h.client.app)) - {("HEAD", p) for _m, p in _paths(h.client.app)})
    assert len(routes) >= 25, routes
    caplog.set_level(logging.WARNING)
    reached: set[int] = set()
    bad: list[tuple[str, str, object, int]] = []
    for (method, template), value, query in itertools.product(routes, PATH_VALUES, QUERIES):
        url = _concrete(template, value) + query
        kinds: list[dict[str, Any]] = [{}]
        if method != "GET":
            kinds += [{"json": body} for body in JSON_BODIES]
            kinds += [{"data": raw, "headers": {**headers, "Content-Type": ct}}
                      for raw, ct in itertools.product(RAW_BODIES, (
                          "application/json", "application/x-www-form-urlencoded"))]
        for kw in kinds:
            kw.setdefault("headers", headers)
            resp = await h.client.request(method, url, allow_redirects=False, **kw)
            await resp.read()
            reached.add(resp.status)
            if resp.status >= 500:
                bad.append((method, url[:120], kw.get("json", kw.get("data")), resp.status))
    assert not bad, bad[:10]
    assert {200, 400, 404} <= reached  # the handlers ran: not everything bounced at the guard
    errors = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records
              if r.levelno >= logging.ERROR and r.name.startswith(ERROR_LOGGERS)]
    assert not errors, errors[:10]
