"""The Rasa server and action server as supervised child processes of ``ivr serve``.

They talk only to the IVR: the Rasa server's HTTP API needs ``rasa.auth_token`` (its
``--auth-token``) and its only input channel needs the same secret in a header
(``rasa_project/ivr_rasa/channel.py``); the action server listens on 127.0.0.1 and answers only
requests carrying ``rasa.actions_token`` (sent by Rasa, ``ivr_rasa/serve.py``). Secrets travel in
each child's environment, never on a command line, and each child gets only the ones it needs.
Rasa keeps conversations in a bounded tracker store (``ivr_rasa/tracker_store.py``), or, with
the store on PostgreSQL, in its SQL tracker store there (``ivr.cluster.rasa_state``).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

import ivr.text
from ivr.cluster.rasa_state import rasa_state
from ivr.config import Config
from ivr.core.errors import ConfigError
from ivr.dialogue.bridge import RasaBridge
from ivr.supervisor import ChildSpec, HealthCheck

RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONUNBUFFERED": "1",
            "SANIC_ACCESS_LOG": "False"}  # access logs would print ?token=


def ensure_rasa_tokens(config: Config) -> Config:
    """``config`` with random ``rasa.auth_token``/``rasa.actions_token`` where empty (only a
    supervised Rasa can be handed fresh ones; an external Rasa needs them configured)."""
    rasa = config.rasa
    if rasa.auth_token and rasa.actions_token:
        return config
    if not rasa.managed:
        raise ConfigError("setting rasa.auth_token: required when rasa.managed = false (the "
                          "token the external Rasa was started with)")
    rasa = dataclasses.replace(rasa, auth_token=rasa.auth_token or secrets.token_urlsafe(32),
                               actions_token=rasa.actions_token or secrets.token_urlsafe(32))
    return dataclasses.replace(config, rasa=rasa)


def _inherited_env() -> dict[str, str]:
    """The IVR's environment minus its own settings and secrets (IVR_*)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}


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
    exe = rasa.venv / "bin" / "python"
    if not exe.exists():
        raise ConfigError(f"setting rasa.venv: {exe} not found (run the set-up: make run)")
    if not (rasa.auth_token and rasa.actions_token):
        raise ConfigError("setting rasa.auth_token / rasa.actions_token: missing "
                          "(ensure_rasa_tokens first)")
    if not rasa.model.exists():
        raise ConfigError(f"setting rasa.model: {rasa.model} not found (train: make run)")
    endpoints = config.server.data_dir / "rasa-endpoints.yml"
    endpoints.parent.mkdir(parents=True, exist_ok=True)
    shared = rasa_state(config)  # tracker and lock stores shared by several workers
    endpoints.write_text(
        "# written by ivr serve from [rasa] settings; ${...} comes from Rasa's environment\n"
        "action_endpoint:\n"
        f"  url: \"http://127.0.0.1:{rasa.actions_port}/webhook\"\n"
        "  headers:\n"
        "    X-IVR-Actions-Token: ${IVR_ACTIONS_TOKEN}\n"  # unquoted: Rasa expands it
        + ("" if shared.tracker_url else  # conversations in memory, per server process
           "tracker_store:\n"
           "  type: ivr_rasa.tracker_store.BoundedTrackerStore\n"
           f"  max_conversations: {rasa.max_conversations}\n"
           f"  ttl_s: {rasa.conversation_ttl_s}\n")
        + shared.yaml,
        encoding="utf-8",
    )
    servers = [
        ChildSpec(
            name="rasa" if i == 0 else f"rasa-{i + 1}",
            argv=[str(exe), "-m", "ivr_rasa.serve", "server", "--enable-api", "--interface",
                  urlsplit(base).hostname or "127.0.0.1", "--port", str(urlsplit(base).port),
                  "--model", str(rasa.model), "--endpoints", str(endpoints),
                  "--credentials", str(rasa.project_dir / "credentials.yml")],
            health=RasaBridge(http, base, rasa.timeout_s, rasa.auth_token).healthy,
            cwd=rasa.project_dir,
            env={**rasa_env(), "IVR_RASA_TOKEN": rasa.auth_token,
                 "IVR_ACTIONS_TOKEN": rasa.actions_token, **shared.env},
            startup_timeout_s=rasa.startup_timeout_s,
            base_env=_inherited_env(),
        )
        for i, base in enumerate(rasa.server_urls())
    ]
    actions = ChildSpec(
        name="actions",
        argv=[str(exe), "-m", "ivr_rasa.serve", "actions", "--port", str(rasa.actions_port)],
        health=_http_ok(http, f"http://127.0.0.1:{rasa.actions_port}/health"),
        cwd=rasa.project_dir,
        env={**rasa_env(), "IVR_ACTIONS_TOKEN": rasa.actions_token,
             "IVR_API_URL": f"http://127.0.0.1:{config.server.port}",
             "IVR_INTERNAL_TOKEN": config.server.internal_token},
        startup_timeout_s=rasa.startup_timeout_s,
        base_env=_inherited_env(),
    )
    return [*servers, actions]
