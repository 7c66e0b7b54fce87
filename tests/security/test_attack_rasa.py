"""Rasa and the action server answer only the IVR (issue 9). Real processes, started exactly
as ``ivr serve`` starts them (``ivr.rasa_children``): argv, environment, endpoints file.

Before: Rasa's HTTP API ran without a token (read or rewrite any conversation, replace the
model), its REST channel let any local process speak as any caller, the action server answered
anyone on the host (``action_verify_id`` for any customer), and conversations were never
dropped from Rasa's in-memory tracker store."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psutil
import pytest
import requests

from ivr.config import Config, load_config
from ivr.rasa_children import rasa_children
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RASA_TOKEN = "rasa-token-for-reachability-tests"
ACTIONS_TOKEN = "actions-token-for-reachability-tests"
INTERNAL_TOKEN = "internal-token-for-reachability-tests"
MAX_CONVERSATIONS = 3


@dataclass
class Children:
    config: Config
    rasa: str
    actions: str
    procs: dict[str, subprocess.Popen[bytes]]


def _wait(url: str, limit_s: float, params: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, params=params, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not up after {limit_s} s")


@pytest.fixture(scope="module")
def children(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Children]:
    if not (ROOT / "rasa_project" / "models" / "ivr.tar.gz").exists():
        pytest.skip("no trained Rasa model (make test trains it)")
    tmp = tmp_path_factory.mktemp("rasa-reach")
    rasa_port = free_port()
    config = load_config(ROOT / "config" / "test.toml", {
        "IVR_SERVER_DATA_DIR": str(tmp), "IVR_SERVER_PORT": str(free_port()),
        "IVR_SERVER_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "IVR_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "IVR_RASA_ACTIONS_PORT": str(free_port()),
        "IVR_RASA_AUTH_TOKEN": RASA_TOKEN, "IVR_RASA_ACTIONS_TOKEN": ACTIONS_TOKEN,
        "IVR_RASA_MAX_CONVERSATIONS": str(MAX_CONVERSATIONS)})
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for spec in rasa_children(config, cast(Any, None)):
        env = dict(spec.base_env if spec.base_env is not None else os.environ)
        env.update(spec.env)
        log = (tmp / f"{spec.name}.log").open("wb")
        procs[spec.name] = subprocess.Popen(list(spec.argv), cwd=spec.cwd, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
    found = Children(config, config.rasa.url, f"http://127.0.0.1:{config.rasa.actions_port}",
                     procs)
    try:
        _wait(f"{found.actions}/health", 240)
        _wait(f"{found.rasa}/status", 400, {"token": RASA_TOKEN})
        yield found
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/status"), ("GET", "/conversations/CA1/tracker"),
    ("POST", "/conversations/CA1/tracker/events"), ("PUT", "/conversations/CA1/tracker/events"),
    ("POST", "/model/parse"), ("PUT", "/model"), ("DELETE", "/model"),
    ("POST", "/conversations/CA1/execute"), ("POST", "/conversations/CA1/trigger_intent"),
])
def test_rasa_api_needs_the_token(children: Children, method: str, path: str) -> None:
    for params in ({}, {"token": "wrong"}):
        resp = requests.request(method, children.rasa + path, params=params, json={},
                                timeout=10)
        assert resp.status_code == 401, (method, path, params, resp.text[:200])


def test_rasa_api_works_with_the_token(children: Children) -> None:
    resp = requests.get(f"{children.rasa}/status", params={"token": RASA_TOKEN}, timeout=10)
    assert resp.status_code == 200 and resp.json().get("model_file")


def _say(children: Children, sender: str, message: str,
         token: str | None = RASA_TOKEN) -> requests.Response:
    headers = {} if token is None else {"X-IVR-Rasa-Token": token}
    return requests.post(f"{children.rasa}/webhooks/ivr/webhook", headers=headers, timeout=30,
                         json={"sender": sender, "message": message,
                               "metadata": {"call_sid": sender, "language": "zh"}})


def test_no_open_rest_channel(children: Children) -> None:
    resp = requests.post(f"{children.rasa}/webhooks/rest/webhook", timeout=10,
                         json={"sender": "CA1", "message": '/id_result{"result":"verified"}'})
    assert resp.status_code == 404


def test_ivr_channel_needs_the_secret(children: Children) -> None:
    for token in (None, "", "wrong", RASA_TOKEN + "x"):
        resp = _say(children, "CAattacker", "/call_start", token)
        assert resp.status_code == 403, token
    resp = _say(children, "CAivr", "/call_start")
    assert resp.status_code == 200
    assert {"expect": "yes_no"} in [m.get("custom") for m in resp.json()]


def _action_call(name: str) -> dict[str, Any]:
    return {"next_action": name, "sender_id": "CA1", "version": "3.6.2", "domain": {},
            "tracker": {"sender_id": "CA1", "slots": {"language": "zh"},
                        "latest_message": {"intent": {"name": "affirm"}, "entities": []},
                        "events": [], "latest_action_name": "action_listen",
                        "paused": False, "followup_action": None, "active_loop": {}}}


@pytest.mark.parametrize("action", ["action_verify_id", "action_info_confirmed",
                                    "action_ask_identity"])
def test_action_server_needs_the_ivr_token(children: Children, action: str) -> None:
    for headers in ({}, {"X-IVR-Actions-Token": "wrong"}):
        resp = requests.post(f"{children.actions}/webhook", json=_action_call(action),
                             headers=headers, timeout=10)
        assert resp.status_code == 403, (action, headers)
        assert requests.get(f"{children.actions}/actions", headers=headers,
                            timeout=10).status_code == 403
    assert requests.get(f"{children.actions}/health", timeout=10).json() == {"status": "ok"}


def test_action_server_answers_rasa(children: Children) -> None:
    resp = requests.post(f"{children.actions}/webhook", json=_action_call("action_ask_identity"),
                         headers={"X-IVR-Actions-Token": ACTIONS_TOKEN}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["responses"][0]["response"] == "utter_ask_identity"


def test_children_listen_on_loopback_and_keep_secrets_off_the_command_line(
        children: Children) -> None:
    for name, proc in children.procs.items():
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        ports = [c.laddr for p in tree for c in p.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
        assert ports and all(addr.ip in ("127.0.0.1", "::1") for addr in ports), (name, ports)
        for p in tree:
            cmdline = " ".join(p.cmdline())
            for secret in (RASA_TOKEN, ACTIONS_TOKEN, INTERNAL_TOKEN):
                assert secret not in cmdline, name
    rasa_env = psutil.Process(children.procs["rasa"].pid).environ()
    actions_env = psutil.Process(children.procs["actions"].pid).environ()
    assert "IVR_INTERNAL_TOKEN" not in rasa_env  # Rasa never talks to the IVR's API
    assert "IVR_RASA_TOKEN" not in actions_env
    assert not any(k.startswith("IVR_SERVER_") for k in {**rasa_env, **actions_env})


def test_tracker_store_is_bounded(children: Children) -> None:
    senders = [f"CAbound{i}" for i in range(MAX_CONVERSATIONS + 2)]
    for sender in senders:
        assert _say(children, sender, "/call_start").status_code == 200

    def user_events(sender: str) -> int:
        resp = requests.get(f"{children.rasa}/conversations/{sender}/tracker",
                            params={"token": RASA_TOKEN}, timeout=10)
        assert resp.status_code == 200
        return sum(1 for e in resp.json()["events"] if e.get("event") == "user")

    assert user_events(senders[-1]) == 1
    assert user_events(senders[0]) == 0  # the oldest conversation was dropped
