"""The Rasa server and action server as supervised child processes of ``ivr serve``."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

import ivr.text
from ivr.config import Config
from ivr.core.errors import ConfigError
from ivr.dialogue.bridge import RasaBridge
from ivr.supervisor import ChildSpec, HealthCheck

RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONUNBUFFERED": "1"}


def ivr_import_root() -> Path:
    """The directory that holds the ``ivr`` package (the checkout, or site-packages)."""
    return Path(ivr.text.__file__).resolve().parents[2]


def rasa_env() -> dict[str, str]:
    """Environment for every Rasa process (training, server, action server): the Rasa venv
    lacks the IVR's dependencies but imports ``ivr.text`` (standard library only) from here."""
    paths = [str(ivr_import_root()), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))]
    return {**RASA_ENV, "PYTHONPATH": ":".join(dict.fromkeys(paths))}


def _http_ok(http: aiohttp.ClientSession, url: str) -> HealthCheck:
    async def check() -> bool:
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    return check


def rasa_children(config: Config, http: aiohttp.ClientSession) -> list[ChildSpec]:
    rasa = config.rasa
    exe = rasa.venv / "bin" / "rasa"
    if not exe.exists():
        raise ConfigError(f"setting rasa.venv: {exe} not found (run the set-up: make run)")
    if not rasa.model.exists():
        raise ConfigError(f"setting rasa.model: {rasa.model} not found (train: make run)")
    url = urlsplit(rasa.url)
    host, port = url.hostname or "127.0.0.1", url.port or 5005
    endpoints = config.server.data_dir / "rasa-endpoints.yml"
    endpoints.parent.mkdir(parents=True, exist_ok=True)
    endpoints.write_text(
        "# written by ivr serve from [rasa] settings\n"
        f"action_endpoint:\n  url: \"http://127.0.0.1:{rasa.actions_port}/webhook\"\n",
        encoding="utf-8",
    )
    env = rasa_env()
    env["IVR_API_URL"] = f"http://127.0.0.1:{config.server.port}"
    env["IVR_INTERNAL_TOKEN"] = config.server.internal_token
    bridge = RasaBridge(http, rasa.url, rasa.timeout_s)
    server = ChildSpec(
        name="rasa",
        argv=[str(exe), "run", "--enable-api", "--interface", host, "--port", str(port),
              "--model", str(rasa.model), "--endpoints", str(endpoints),
              "--credentials", str(rasa.project_dir / "credentials.yml")],
        health=bridge.healthy,
        cwd=rasa.project_dir,
        env=env,
        startup_timeout_s=rasa.startup_timeout_s,
    )
    actions = ChildSpec(
        name="actions",
        argv=[str(exe), "run", "actions", "--port", str(rasa.actions_port), "--actions",
              "actions"],
        health=_http_ok(http, f"http://127.0.0.1:{rasa.actions_port}/health"),
        cwd=rasa.project_dir,
        env={**env, "SANIC_HOST": "127.0.0.1"},  # `rasa run actions` has no --interface
        startup_timeout_s=rasa.startup_timeout_s,
    )
    return [server, actions]
