"""``ivr serve`` start-up: ports checked first (message names the setting), demo customers only
into an empty store, and a banner with the first-call commands once every part is up."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from ivr.banner import Launch, Source, ready_lines, secret_sources, setup_lines
from ivr.config import ROOT, Config, load_config
from ivr.core.errors import ConfigError
from ivr.startup import (
    DEMO_CUSTOMERS,
    announce_when_ready,
    check_ports,
    seed_demo_customers,
)
from tests.customers.customer_samples import HASHER


def local_config(tmp_path: Path, **env: str) -> Config:
    return load_config(None, {"IVR_SERVER_DATA_DIR": str(tmp_path), **env},
                       local_secrets=True, generate_secrets=True)


def test_a_taken_server_port_names_the_setting_and_the_fix(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        config = local_config(tmp_path, IVR_SERVER_PORT=str(port))
        with pytest.raises(ConfigError) as info:
            check_ports(config)
    text = str(info.value)
    assert f"port {port}" in text and "server.port" in text and "IVR_SERVER_PORT=" in text


def test_a_taken_actions_port_names_its_setting(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as free, \
            socket.create_server(("127.0.0.1", 0)) as busy:
        free_port = free.getsockname()[1]
        free.close()
        config = local_config(tmp_path, IVR_SERVER_PORT=str(free_port),
                              IVR_RASA_URL=f"http://127.0.0.1:{free_port}",
                              IVR_RASA_ACTIONS_PORT=str(busy.getsockname()[1]))
        with pytest.raises(ConfigError) as info:
            check_ports(config)
    assert "rasa.actions_port" in str(info.value)


def test_free_ports_pass(tmp_path: Path) -> None:
    ports = []
    for _ in range(3):
        with socket.create_server(("127.0.0.1", 0)) as sock:
            ports.append(sock.getsockname()[1])
    check_ports(local_config(tmp_path, IVR_SERVER_PORT=str(ports[0]),
                             IVR_RASA_URL=f"http://127.0.0.1:{ports[1]}",
                             IVR_RASA_ACTIONS_PORT=str(ports[2])))


def test_local_mode_says_what_works_without_a_provider_account(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    assert secret_sources(config)["twilio.auth_token"] is Source.GENERATED
    text = "\n".join(setup_lines(config))
    assert str(tmp_path / "secrets.toml") in text
    assert "simulator" in text and "softphone" in text
    assert "IVR_TWILIO_AUTH_TOKEN" in text and "twilio.account_sid" in text
    assert config.twilio.auth_token not in text and config.server.api_token not in text


def test_an_explicit_provider_token_is_not_called_local(tmp_path: Path) -> None:
    config = local_config(tmp_path, IVR_TWILIO_AUTH_TOKEN="real", IVR_TWILIO_ACCOUNT_SID="AC1")
    assert secret_sources(config)["twilio.auth_token"] is Source.EXPLICIT
    text = "\n".join(setup_lines(config))
    assert "simulator" not in text and "account_sid" not in text


def test_ready_banner_prints_both_first_calls_and_the_softphone(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    launch = Launch(config_file=ROOT / "config" / "tiny-models.toml", env_settings=(), cwd=ROOT)
    lines = ready_lines(config, launch, {"asr": "up", "rasa": "up"}, 42.0)
    text = "\n".join(lines)
    assert "http://127.0.0.1:8080" in lines[0] and "42 s" in lines[0]
    for lang in ("zh", "en"):
        cmd = (f".venv/bin/ivr --config config/tiny-models.toml call --script "
               f"audio/fixtures/{lang}/happy_path/script.yaml")
        assert cmd in text
        assert (ROOT / f"audio/fixtures/{lang}/happy_path/script.yaml").is_file()
    assert "softphone --lang zh --customer-id C-zh-happy" in text
    assert "--url" not in text


def test_banner_targets_the_listener_when_the_public_url_is_elsewhere(tmp_path: Path) -> None:
    config = local_config(tmp_path, IVR_SERVER_PUBLIC_URL="https://ivr.example.com",
                          IVR_SERVER_HOST="0.0.0.0", IVR_SERVER_PORT="9000")
    launch = Launch(config_file=None, env_settings=("IVR_SERVER_PORT",), cwd=tmp_path)
    text = "\n".join(ready_lines(config, launch, {}, 1.0))
    assert f"{ROOT}/.venv/bin/ivr --url http://127.0.0.1:9000 call" in text
    assert "same environment: IVR_SERVER_PORT" in text


class SteppedReadiness:
    """Readiness that walks through a list of part states, one per ``ready()`` call."""

    def __init__(self, states: list[dict[str, str]]) -> None:
        self.states = states
        self.current = states[0]

    def ready(self) -> tuple[bool, str]:
        self.current = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return all(v == "up" for v in self.current.values()), ""

    def parts(self) -> dict[str, str]:
        return self.current


async def test_announce_waits_for_every_part_then_prints_the_banner(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    starting = {"asr": "up", "rasa": "starting", "actions": "starting"}
    states = [starting, starting, {"asr": "up", "rasa": "up", "actions": "starting"},
              {"asr": "up", "rasa": "up", "actions": "up"}]
    now = [100.0]

    def clock() -> float:
        now[0] += 5.0
        return now[0]

    out: list[str] = []
    launch = Launch(None, (), ROOT)
    await announce_when_ready(SteppedReadiness(states), config, launch, out.append,
                              clock=clock, poll_s=0)
    waiting = [line for line in out if "waiting for" in line]
    assert waiting[0].endswith("— Rasa loads TensorFlow and its model, 20-60 s")
    assert "rasa starting, actions starting" in waiting[0]
    assert any("waiting for actions starting" in line for line in waiting)
    ready = [line for line in out if line.startswith("ivr: ready in")]
    assert len(ready) == 1
    assert "call --script audio/fixtures/en/happy_path/script.yaml" in "\n".join(out)


async def test_demo_customers_only_go_into_an_empty_store(tmp_path: Path) -> None:
    db = tmp_path / "ivr.sqlite3"
    added = await seed_demo_customers(db, HASHER)
    assert added == len(json.loads(DEMO_CUSTOMERS.read_text(encoding="utf-8"))) > 0
    assert await seed_demo_customers(db, HASHER) == 0
