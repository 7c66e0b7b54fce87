"""The ID last 4 never reach the dialogue, the transcript, the events or the API (issue 9).

The real call engine (controller, driver, digits collector, keypad) runs behind the real media
socket and call hub; the dialogue is a recorder that always asks for the ID. Before: the digits
went to Rasa as ``/inform_digits{"digits": "123X"}``, were stored in the transcript as
``[123X]`` and in DTMF events, and failures were counted per call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.customers.customer_samples import customer
from tests.security.harness import API_TOKEN, Harness, harness
from tests.security.twilio_client import started_call

LOCKED = '/id_result{"result":"locked","attempts_left":0}'


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, {"IVR_SERVER_API_TOKEN": API_TOKEN}, real_calls=True) as h:
        await h.customers.upsert_customers([customer()])  # the ID ends in 123X
        yield h


async def _press(ws: aiohttp.ClientWebSocketResponse, stream_sid: str, keys: str) -> None:
    for key in keys:
        await ws.send_str(json.dumps({"event": "dtmf", "streamSid": stream_sid,
                                      "dtmf": {"track": "inbound_track", "digit": key}}))
        await asyncio.sleep(0.12)


async def _until(predicate: Any, limit_s: float = 8.0) -> None:
    for _ in range(int(limit_s / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _call(h: Harness, session: aiohttp.ClientSession, keys: str) -> tuple[str, list[str]]:
    before = len(h.dialogue.messages)
    sid, stream_sid, ws = await started_call(h, session, query={"customer_id": "c-001"})
    await _until(lambda: len(h.dialogue.messages) > before)  # /call_start answered
    await asyncio.sleep(0.5)  # the question is being played: keys barge in, then count
    await _press(ws, stream_sid, keys)
    await _until(lambda: len(h.dialogue.messages) > before + 1)
    await ws.close()
    await _until(lambda: sid not in h.services.active)
    return sid, h.dialogue.messages[before:]


async def test_keyed_id_is_checked_by_the_ivr_and_masked_everywhere(site: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        sid, messages = await _call(site, session, "123*")  # * = X
    assert messages[0] == "/call_start"
    assert messages[1] == '/id_result{"result":"verified","attempts_left":2}'
    record = await site.client.get(f"/api/calls/{sid}",
                                   headers={"Authorization": f"Bearer {API_TOKEN}"})
    text = await record.text()
    for secret in ("123X", "[123", "123*", '"1"', '"2"', '"3"'):
        assert secret not in text, secret
    body = json.loads(text)
    assert [t["text"] for t in body["turns"] if t["role"] == "caller"] == ["[****]"]
    dtmf = [e for e in body["events"] if e["kind"] == "dtmf"]
    assert len(dtmf) == 4 and all(e["detail"] == {"digit": "[*]"} for e in dtmf)
    assert [e["code"] for e in body["events"] if e["kind"] == "id_check"] == ["verified"]


async def test_failures_count_across_calls_and_lock_with_an_event(site: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        _sid1, first = await _call(site, session, "9999")
        sid2, second = await _call(site, session, "8888")  # a new call
        _sid3, third = await _call(site, session, "123*")  # right, but locked
    assert first[1] == '/id_result{"result":"mismatch","attempts_left":1}'
    assert second[1] == LOCKED and third[1] == LOCKED
    events = await site.calls.get_events(sid2)
    assert [e.code for e in events if e.kind == "identity_locked"] == ["id_failures"]
    assert site.services.metrics.id_lockouts == 1
    assert all("9999" not in m and "8888" not in m for m in site.dialogue.messages)


async def test_too_few_digits_are_asked_again_without_counting(site: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        _sid, messages = await _call(site, session, "12#")
    assert messages[1] == '/id_result{"result":"incomplete","attempts_left":2}'
    assert (await site.customers.id_lock("c-001")).failures == 0
