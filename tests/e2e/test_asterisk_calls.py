"""Fixture calls over Asterisk: the real stack (``ivr serve`` with Rasa) behind its Asterisk
adapter, the phone through the Asterisk emulator (ARI REST + events, AudioSocket over TCP).
A handful of calls (the Twilio path runs them all): greeting to goodbye, barge-in, keypad,
escalation, the wrong person. And a stream nobody announced is refused."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from ivr.sim.asterisk_phone import AsteriskPhone
from ivr.sim.dialogues import DialogueOutcome, load_all, run_dialogues, table
from ivr.sim.phone import SimOptions
from ivr.telephony.asterisk import audiosocket as aus
from tests.e2e.asterisk_thread import EmulatorThread
from tests.e2e.conftest import API_TOKEN, AUTH_TOKEN, ROOT, Server

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "audio" / "fixtures"
OVER_ASTERISK = ["zh/happy_path", "en/barge_in_faq", "zh/keypad_only", "en/agent_request",
                 "zh/wrong_party"]
SCRIPTS = load_all([FIXTURES / name / "script.yaml" for name in OVER_ASTERISK])


@pytest.fixture(scope="module")
def asterisk_outcomes(server: Server, asterisk: EmulatorThread) -> dict[str, DialogueOutcome]:
    emu = asterisk.emu
    assert emu is not None

    async def go() -> list[DialogueOutcome]:
        await emu.wait_subscribed(30)
        options = SimOptions(base_url=server.url, auth_token=AUTH_TOKEN, api_token=API_TOKEN)
        return await run_dialogues(SCRIPTS, options, concurrency=5,
                                   phone=AsteriskPhone(options, emu))

    done = asterisk.run(go, 900)
    print(table(done))
    return {o.script.name: o for o in done}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", OVER_ASTERISK)
def test_fixture_call_over_asterisk(name: str, asterisk_outcomes: dict[str, DialogueOutcome],
                                    server: Server) -> None:
    outcome = asterisk_outcomes[name]
    assert outcome.ok, f"{name} over Asterisk: {outcome.mismatches}\n{server.log_tail(30)}"
    record = outcome.result.record
    assert record is not None and record.get("provider") == "asterisk"
    assert outcome.result.frames_late < max(1, outcome.result.frames_sent // 100)
    assert outcome.result.answer_ms is not None


def test_an_unannounced_audiosocket_stream_is_refused(server: Server) -> None:
    port = int(server.env["IVR_ASTERISK_AUDIOSOCKET_PORT"])

    async def knock() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(aus.encode_uuid(uuid.uuid4()) + aus.encode_audio(bytes(320)))
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return data

    assert asyncio.run(knock()) == aus.encode_hangup()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")  # not AudioSocket at all
        sock.settimeout(10)
        assert sock.recv(16) == aus.encode_hangup()
