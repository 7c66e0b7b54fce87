"""What ``ivr cluster run`` gives each worker: the settings a worker on another machine would
get from its environment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ivr.cluster.run import worker_env
from ivr.config import Config, load_config


def test_worker_environment_makes_a_cluster_member(tmp_path: Path) -> None:
    env = worker_env(Config(), "w2", 8081, "postgresql://u:p@127.0.0.1:5/ivr",
                     "redis://:r@127.0.0.1:6/0", tmp_path)
    assert env["IVR_CLUSTER_WORKER_ID"] == "w2" and env["IVR_SERVER_PORT"] == "8081"
    assert env["IVR_CLUSTER_WORKER_URL"] == "http://127.0.0.1:8081"
    assert env["IVR_SERVER_DATA_DIR"] == str(tmp_path / "w2")
    assert env["IVR_RASA_URL"] != worker_env(Config(), "w3", 8082, "", "", tmp_path)[
        "IVR_RASA_URL"]  # each worker its own Rasa
    config = load_config(env={**env, "IVR_TWILIO_AUTH_TOKEN": "t"})
    assert (config.worker_id, config.store.url, config.cluster.redis_url) == (
        "w2", "postgresql://u:p@127.0.0.1:5/ivr", "redis://:r@127.0.0.1:6/0")
    # every worker is given the installation's secrets (ID hashes match on any worker)
    installation = Config()
    installation = replace(installation, server=replace(
        installation.server, secret_key="the-installation-key-0123456789abc", api_token="api"),
        twilio=replace(installation.twilio, auth_token="tw"))
    w3 = load_config(env=worker_env(installation, "w3", 8082, "postgresql://u:p@h/ivr", "",
                                    tmp_path))
    assert w3.server.secret_key == "the-installation-key-0123456789abc"
    assert (w3.server.api_token, w3.twilio.auth_token) == ("api", "tw")
    assert "IVR_SERVER_INTERNAL_TOKEN" not in worker_env(installation, "w3", 8082, "", "",
                                                         tmp_path)  # unset: not invented
