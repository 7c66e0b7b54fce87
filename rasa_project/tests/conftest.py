"""Helpers for the action-server unit tests: trackers built in the test, a loopback fake of
the IVR's internal API (tests/fake_ivr_api.py, the same JSON contract), the real domain."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_ivr_api import State, make_handler
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

PROJECT = Path(__file__).resolve().parents[1]
TOKEN = "test-token"
SID = "CA-unit-0001"


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))


@dataclass
class FakeApi:
    url: str
    state: State

    def call(self, sid: str = SID) -> dict[str, Any]:
        return self.state.call(sid)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    state = State(TOKEN)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("IVR_API_URL", url)
    monkeypatch.setenv("IVR_INTERNAL_TOKEN", TOKEN)
    monkeypatch.setenv("IVR_API_TIMEOUT_S", "2")
    monkeypatch.delenv("IVR_CONFIRM_BELOW", raising=False)
    try:
        yield FakeApi(url, state)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api_down(monkeypatch: pytest.MonkeyPatch) -> str:
    """An IVR API address where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("IVR_API_URL", url)
    monkeypatch.setenv("IVR_INTERNAL_TOKEN", TOKEN)
    monkeypatch.setenv("IVR_API_TIMEOUT_S", "2")
    return url


def tracker(text: str = "", intent: str | None = None, *, slots: dict[str, Any] | None = None,
            entities: list[dict[str, Any]] | None = None, confidence: float | None = None,
            events: list[dict[str, Any]] | None = None) -> Tracker:
    """A tracker whose latest message is ``text``/``intent`` (metadata asr_confidence when
    given: speech; absent: keypad)."""
    values = {"language": "zh", "call_sid": SID, "customer_id": "C001",
              "customer_title": "张先生", **(slots or {})}
    metadata = {} if confidence is None else {"asr_confidence": str(confidence)}
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99},
              "entities": entities or [], "metadata": metadata}
    history = [*(events or []), {"event": "user", "text": text, "parse_data": latest,
                                     "metadata": metadata}]
    return Tracker(SID, values, latest, history, False, None, {}, "action_listen")


@dataclass
class Result:
    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def responses(self) -> list[str]:
        return [m.get("response") for m in self.messages if m.get("response")]

    @property
    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    @property
    def customs(self) -> list[dict[str, Any]]:
        return [m["custom"] for m in self.messages if m.get("custom")]

    def message(self, response: str) -> dict[str, Any]:
        return next(m for m in self.messages if m.get("response") == response)


def run(action: Action, t: Tracker, domain: dict[str, Any]) -> Result:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, domain))
    return Result(dispatcher.messages, [dict(e) for e in events])
