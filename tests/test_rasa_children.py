"""How ``ivr serve`` starts Rasa and the action server: secrets only in the environment of the
child that needs them, the IVR channel and tokens in the endpoints file, a bounded tracker
store. (The processes themselves are exercised in tests/security/test_attack_rasa.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from ivr.config import load_config
from ivr.core.errors import ConfigError
from ivr.rasa_children import ensure_rasa_tokens, rasa_children

ROOT = Path(__file__).resolve().parents[1]
ENV = {"IVR_TWILIO_AUTH_TOKEN": "t", "IVR_SERVER_INTERNAL_TOKEN": "internal-secret"}


def test_tokens_are_generated_for_a_managed_rasa_and_required_otherwise(tmp_path: Path) -> None:
    config = ensure_rasa_tokens(load_config(None, {**ENV, "IVR_SERVER_DATA_DIR": str(tmp_path)}))
    assert len(config.rasa.auth_token) >= 40 and len(config.rasa.actions_token) >= 40
    assert config.rasa.auth_token != config.rasa.actions_token
    again = ensure_rasa_tokens(config)
    assert again.rasa.auth_token == config.rasa.auth_token
    with pytest.raises(ConfigError, match=r"rasa\.auth_token"):
        ensure_rasa_tokens(load_config(None, {**ENV, "IVR_RASA_MANAGED": "false"}))


def test_children_get_only_their_secrets_and_none_on_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_SERVER_API_TOKEN", "api-secret")  # the IVR's own environment
    config = ensure_rasa_tokens(load_config(None, {
        **ENV, "IVR_SERVER_DATA_DIR": str(tmp_path), "IVR_RASA_MAX_CONVERSATIONS": "7",
        "IVR_RASA_MODEL": str(tmp_path / "model.tar.gz")}))
    (tmp_path / "model.tar.gz").write_bytes(b"")
    if not (config.rasa.venv / "bin" / "python").exists():
        pytest.skip("no Rasa virtualenv (make test creates it)")
    server, actions = rasa_children(config, cast(Any, None))
    secrets = (config.rasa.auth_token, config.rasa.actions_token, "internal-secret",
               "api-secret")
    for spec in (server, actions):
        assert not any(s in " ".join(spec.argv) for s in secrets)
        assert spec.base_env is not None and "IVR_SERVER_API_TOKEN" not in spec.base_env
    assert server.env["IVR_RASA_TOKEN"] == config.rasa.auth_token
    assert server.env["IVR_ACTIONS_TOKEN"] == config.rasa.actions_token
    assert "IVR_INTERNAL_TOKEN" not in server.env
    assert actions.env["IVR_INTERNAL_TOKEN"] == "internal-secret"
    assert "IVR_RASA_TOKEN" not in actions.env
    assert server.env["SANIC_ACCESS_LOG"] == "False"
    endpoints = (tmp_path / "rasa-endpoints.yml").read_text(encoding="utf-8")
    assert "X-IVR-Actions-Token: ${IVR_ACTIONS_TOKEN}\n" in endpoints  # expanded by Rasa
    assert "BoundedTrackerStore" in endpoints and "max_conversations: 7" in endpoints
    assert config.rasa.actions_token not in endpoints
    credentials = (ROOT / "rasa_project" / "credentials.yml").read_text(encoding="utf-8")
    assert "ivr_rasa.channel.IvrInput:" in credentials and "\nrest:" not in credentials


def test_several_rasa_servers_on_consecutive_ports_share_one_action_server(
        tmp_path: Path) -> None:
    config = ensure_rasa_tokens(load_config(None, {
        **ENV, "IVR_SERVER_DATA_DIR": str(tmp_path), "IVR_RASA_SERVERS": "3",
        "IVR_RASA_URL": "http://127.0.0.1:6100", "IVR_RASA_MODEL": str(tmp_path / "m.tar.gz")}))
    (tmp_path / "m.tar.gz").write_bytes(b"")
    assert config.rasa.server_urls() == ["http://127.0.0.1:6100", "http://127.0.0.1:6101",
                                         "http://127.0.0.1:6102"]
    if not (config.rasa.venv / "bin" / "python").exists():
        pytest.skip("no Rasa virtualenv (make test creates it)")
    *servers, actions = rasa_children(config, cast(Any, None))
    assert [s.name for s in servers] == ["rasa", "rasa-2", "rasa-3"]
    assert [s.argv[s.argv.index("--port") + 1] for s in servers] == ["6100", "6101", "6102"]
    assert actions.name == "actions"
    with pytest.raises(ConfigError, match=r"rasa\.servers"):
        load_config(None, {**ENV, "IVR_RASA_SERVERS": "0"})
