"""The ID last 4 never reach the dialogue, the transcript, the events or the API (issue 9).

A real call session (``ivr.call.factory.SessionFactory``, real keypad mapping, real playback)
runs behind the real media socket; the dialogue is a recorder that always asks for the ID.
Before: the digits went to Rasa as ``/inform_digits{"digits": "123X"}``, were stored in the
transcript as ``[123X]`` and in DTMF events, and failures were counted per call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ivr.asr.base import AsrResult
from ivr.audio.endpoint import EndpointConfig
from ivr.call.factory import SessionFactory
from ivr.call.session import SessionPolicy
from ivr.core.audio import Pcm
from ivr.core.types import Expectation, Language
from ivr.customers.identity import IdPolicy
from ivr.customers.verifier import IdentityVerifier
from ivr.dialogue.bridge import DialogueReply
from ivr.dialogue.turns import parse_bot_messages
from ivr.web.services import Services
from tests.customers.customer_samples import HASHER, customer
from tests.security.harness import API_TOKEN, Harness, harness
from tests.security.twilio_client import started_call

ASK_ID = [{"text": "请说出身份证号码的最后四位"}, {"custom": {"expect": "digits"}}]


class RecordingDialogue:
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
    async def handoff(self, session: Any, handoff: Any) -> None:
        raise AssertionError("no handoff here")


@pytest.fixture
async def call_site(tmp_path: Path) -> AsyncIterator[tuple[Harness, RecordingDialogue]]:
    dialogue = RecordingDialogue()
    executor = ThreadPoolExecutor(1)

    def factory(services: Services) -> SessionFactory:
        assert services.customers is not None
        verifier = IdentityVerifier(services.customers.store, HASHER,
                                    IdPolicy(max_failures=2, cooldown_s=3600))
        return SessionFactory(
            engine=NoAsr(), executor=executor, dialogue=dialogue, speech=ShortSpeech(),
            store=services.store, prompts=services.prompts, handoff=NoHandoff(),
            policy=SessionPolicy(), endpoint=EndpointConfig(), vad_aggressiveness=2,
            metrics=services.metrics, identity=verifier)

    async with harness(tmp_path, {"IVR_SERVER_API_TOKEN": API_TOKEN},
                       sessions_from=factory) as h:
        await h.customers.upsert_customers([customer()])  # ID ends in 123X
        yield h, dialogue
    executor.shutdown(wait=False)


async def _echo_marks(ws: aiohttp.ClientWebSocketResponse, stream_sid: str) -> None:
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            data = json.loads(msg.data)
            if data.get("event") == "mark":
                await ws.send_str(json.dumps({"event": "mark", "streamSid": stream_sid,
                                              "mark": data["mark"]}))


async def _press(ws: aiohttp.ClientWebSocketResponse, stream_sid: str, keys: str) -> None:
    for key in keys:
        await ws.send_str(json.dumps({"event": "dtmf", "streamSid": stream_sid,
                                      "dtmf": {"track": "inbound_track", "digit": key}}))
        await asyncio.sleep(0.12)


async def _until(predicate: Any, limit_s: float = 5.0) -> None:
    for _ in range(int(limit_s / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _call(h: Harness, dialogue: RecordingDialogue, session: aiohttp.ClientSession,
                keys: str) -> tuple[str, list[str]]:
    before = len(dialogue.messages)
    sid, stream_sid, ws = await started_call(h, session, query={"customer_id": "c-001"})
    echo = asyncio.create_task(_echo_marks(ws, stream_sid))
    await _until(lambda: len(dialogue.messages) > before)  # /call_start answered
    await asyncio.sleep(0.3)
    await _press(ws, stream_sid, keys)
    await _until(lambda: len(dialogue.messages) > before + 1)
    await ws.close()
    echo.cancel()
    await asyncio.sleep(0.2)
    return sid, dialogue.messages[before:]


async def test_keyed_id_is_checked_by_the_ivr_and_masked_everywhere(
        call_site: tuple[Harness, RecordingDialogue]) -> None:
    h, dialogue = call_site
    async with aiohttp.ClientSession() as session:
        sid, messages = await _call(h, dialogue, session, "123*")  # * = X
    assert messages[0] == "/call_start"
    assert messages[1] == '/id_result{"result":"verified","attempts_left":2}'
    record = await h.client.get(f"/api/calls/{sid}",
                                headers={"Authorization": f"Bearer {API_TOKEN}"})
    text = await record.text()
    for secret in ("123X", "[123", "123*", '"1"', '"2"', '"3"'):
        assert secret not in text, secret
    body = json.loads(text)
    assert [t["text"] for t in body["turns"] if t["role"] == "caller"] == ["[****]"]
    dtmf = [e for e in body["events"] if e["kind"] == "dtmf"]
    assert len(dtmf) == 4 and all(e["detail"] == {"digit": "[*]"} for e in dtmf)
    assert [e["code"] for e in body["events"] if e["kind"] == "id_check"] == ["verified"]


async def test_failures_count_across_calls_and_lock_with_an_event(
        call_site: tuple[Harness, RecordingDialogue]) -> None:
    h, dialogue = call_site
    async with aiohttp.ClientSession() as session:
        _sid1, first = await _call(h, dialogue, session, "9999")
        sid2, second = await _call(h, dialogue, session, "8888")  # a new call
        _sid3, third = await _call(h, dialogue, session, "123*")  # right, but locked
    assert first[1] == '/id_result{"result":"mismatch","attempts_left":1}'
    assert second[1] == '/id_result{"result":"locked","attempts_left":0}'
    assert third[1] == '/id_result{"result":"locked","attempts_left":0}'
    events = await h.calls.get_events(sid2)
    assert [e.code for e in events if e.kind == "identity_locked"] == ["id_failures"]
    assert h.services.metrics.id_lockouts == 1
    assert all("9999" not in m and "8888" not in m for m in dialogue.messages)
