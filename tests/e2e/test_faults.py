"""Bad input and broken parts: forged signatures, garbage media, a dead Rasa, a crashed child,
a caller who hangs up. Each must give a clear result and lose nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import aiohttp
import psutil
import pytest
import requests

from ivr.core.types import Language
from ivr.sim.phone import PhoneSimulator, SimOptions, new_sid
from ivr.sim.script import CallerTurn, CallScript, load_script
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, sign
from tests.e2e.conftest import (
    API_HEADERS,
    API_TOKEN,
    AUTH_TOKEN,
    ROOT,
    Server,
    TcpProxy,
    start_server,
)

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "audio" / "fixtures"


def _sim(server: Server) -> PhoneSimulator:
    return PhoneSimulator(SimOptions(base_url=server.url, auth_token=AUTH_TOKEN,
                                     api_token=API_TOKEN))


def _form(sid: str) -> dict[str, str]:
    return {"AccountSid": "AC" + "0" * 32, "CallSid": sid, "CallStatus": "ringing",
            "Direction": "inbound", "From": "+8613812345678", "To": "+8601012345678"}


@pytest.mark.parametrize("signature", [None, "forged", "wrong-url"])
def test_voice_webhook_rejects_bad_signature_and_stores_nothing(
    server: Server, signature: str | None
) -> None:
    sid = new_sid("CA")
    form = _form(sid)
    headers = {}
    if signature == "forged":
        headers[SIGNATURE_HEADER] = "bm90IGEgc2lnbmF0dXJl"
    elif signature == "wrong-url":
        headers[SIGNATURE_HEADER] = sign("https://evil.example/twilio/voice", form, AUTH_TOKEN)
    resp = requests.post(f"{server.url}/twilio/voice", data=form, headers=headers, timeout=5)
    assert resp.status_code == 403
    resp = requests.get(f"{server.url}/api/calls/{sid}", timeout=5, headers=API_HEADERS)
    assert resp.status_code == 404


def test_status_callback_needs_signature_and_is_recorded(server: Server) -> None:
    sid = new_sid("CA")
    form = {**_form(sid), "CallStatus": "no-answer"}
    url = f"{server.url}/twilio/status"
    assert requests.post(url, data=form, timeout=5).status_code == 403
    headers = {SIGNATURE_HEADER: sign(url, form, AUTH_TOKEN)}
    assert requests.post(url, data=form, headers=headers, timeout=5).status_code == 204
    record = requests.get(f"{server.url}/api/calls/{sid}", timeout=5, headers=API_HEADERS).json()
    assert record["outcome"] == "no_answer"
    assert [e["kind"] for e in record["events"]] == ["status_callback"]


def test_media_socket_rejects_bad_signature(server: Server) -> None:
    async def attempt(headers: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as http:
            try:
                async with http.ws_connect(server.url.replace("http", "ws") + "/twilio/media",
                                           headers=headers):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert asyncio.run(attempt({})) == 403
    assert asyncio.run(attempt({SIGNATURE_HEADER: "Zm9yZ2Vk"})) == 403


def test_garbage_and_out_of_order_media_are_counted_and_the_call_goes_on(
    server: Server,
) -> None:
    garbage = (
        "this is not json",
        json.dumps({"event": "media", "streamSid": "MZx", "media": {"payload": "AAAA"}}),
    )
    bad_turn = (
        json.dumps({"event": "no-such-event", "streamSid": "MZx"}),
        json.dumps({"event": "media", "streamSid": "MZx", "media": {"payload": "%%%not b64"}}),
        json.dumps({"event": "dtmf", "streamSid": "MZx", "dtmf": {}}),
        "[1, 2, 3]",
    )
    script = CallScript(
        name="garbage", lang=Language.ZH, before_start=garbage,
        # 0: an agent; nobody is logged in, so the bot offers a callback at once: 2 = no
        turns=(CallerTurn(raw=bad_turn, digits="0"), CallerTurn(digits="2")),
    )
    result = asyncio.run(_sim(server).call(script))
    assert not result.errors, result.errors
    record = result.record
    assert record is not None
    # The error count is written when the stream closes (a moment after the call's end).
    for _ in range(40):
        if record["counters"]["wire_errors"] == 6:
            break
        time.sleep(0.1)
        record = requests.get(f"{server.url}/api/calls/{result.call_sid}", timeout=5,
                              headers=API_HEADERS).json()
    assert record["counters"]["wire_errors"] == 6
    codes = sorted(e["code"] for e in record["events"] if e["kind"] == "wire_error")
    # the first five are recorded one by one, the rest as one summary
    assert codes.count("wire_malformed") == 3 and "not_recorded" in codes
    assert "wire_unknown_event" in codes and "wire_out_of_order" in codes
    assert record["outcome"] == "escalated", "the caller still reached the agent request"


def test_crashed_action_server_is_restarted(server: Server) -> None:
    procs = psutil.Process(server.proc.pid).children(recursive=True)
    actions = [p for p in procs if "actions" in " ".join(p.cmdline())]
    assert actions, "the action server runs as a child of ivr serve"
    os.killpg(actions[0].pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    seen_down = False
    while time.monotonic() < deadline and not seen_down:
        seen_down = server.ready().get("parts", {}).get("actions") != "up"  # type: ignore[union-attr]
        time.sleep(0.2)
    assert seen_down, "readiness reported the crashed part"
    server.wait_ready(120)
    assert "restarting" in server.log.read_text(encoding="utf-8")


@pytest.fixture()
def proxied_server(server: Server, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A second IVR whose (unsupervised) Rasa is reached through a proxy we can cut."""
    rasa_port = int(server.rasa_url.rsplit(":", 1)[1])
    proxy = TcpProxy(rasa_port)
    second = start_server(tmp_path, IVR_RASA_MANAGED="false",
                          IVR_RASA_URL=f"http://127.0.0.1:{proxy.port}")
    yield second, proxy
    proxy.stop()
    assert second.stop() == 0


def test_rasa_dying_mid_call_gives_an_apology_and_keeps_the_record(proxied_server) -> None:  # type: ignore[no-untyped-def]
    second, proxy = proxied_server
    script = load_script(FIXTURES / "zh" / "happy_path" / "script.yaml")

    async def cut(index: int) -> None:
        if index == 0:
            proxy.stop()

    result = asyncio.run(_sim(second).call(script, before_turn=cut))
    record = result.record
    assert record is not None, second.log_tail()
    assert record["outcome"] == "failed"
    assert record["error_code"] == "dialogue_unavailable"
    bot = [t["text"] for t in record["turns"] if t["role"] == "bot"]
    assert "系统出现了一点问题" in bot[-1], "the caller heard the apology"
    assert result.turns[0].latency_ms is not None, "the apology was audible, not silence"
    assert [t["text"] for t in record["turns"] if t["role"] == "caller"] == ["是"]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and second.ready().get("ready"):
        time.sleep(0.5)
    assert not second.ready().get("ready")
    refused = asyncio.run(_sim(second).call(script))
    assert refused.refused, "new calls are refused while Rasa is down"
    assert "<Play>" in refused.twiml and "<Hangup" in refused.twiml
    play_url = refused.twiml.split("<Play>")[1].split("</Play>")[0]
    wav = requests.get(play_url, timeout=5)
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    assert refused.record is not None and refused.record["error_code"].startswith("refused:")
