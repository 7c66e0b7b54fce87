"""Local mode: secrets generated once into ``<data_dir>/secrets.toml`` (0600); explicit settings
win; every command on the same data directory reads the same values."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.config import load_config
from ivr.core.errors import ConfigError
from ivr.secrets import SECRET_SETTINGS, read_secrets, secrets_path


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"IVR_SERVER_DATA_DIR": str(tmp_path), **extra}


def test_first_start_generates_every_secret_privately(tmp_path: Path) -> None:
    config = load_config(None, env_for(tmp_path), local_secrets=True, generate_secrets=True)
    path = secrets_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = read_secrets(path)
    assert set(stored) == {s.name for s in SECRET_SETTINGS}
    assert config.twilio.auth_token == stored["twilio.auth_token"]
    assert config.server.api_token == stored["server.api_token"]
    assert config.server.internal_token == stored["server.internal_token"]
    assert len({config.twilio.auth_token, config.server.api_token,
                config.server.internal_token}) == 3
    assert all(len(v) >= 40 for v in stored.values())


def test_later_commands_read_the_same_secrets_without_generating(tmp_path: Path) -> None:
    first = load_config(None, env_for(tmp_path), local_secrets=True, generate_secrets=True)
    before = secrets_path(tmp_path).read_bytes()
    again = load_config(None, env_for(tmp_path), local_secrets=True, generate_secrets=True)
    reader = load_config(None, env_for(tmp_path), local_secrets=True)
    assert again == first == reader
    assert secrets_path(tmp_path).read_bytes() == before


def test_explicit_settings_win_and_are_not_written(tmp_path: Path) -> None:
    config_file = tmp_path / "ivr.toml"
    config_file.write_text('[server]\napi_token = "from-file"\n', encoding="utf-8")
    env = env_for(tmp_path, IVR_TWILIO_AUTH_TOKEN="from-env")
    config = load_config(config_file, env, local_secrets=True, generate_secrets=True)
    assert config.twilio.auth_token == "from-env"
    assert config.server.api_token == "from-file"
    assert set(read_secrets(secrets_path(tmp_path))) == {"server.internal_token"}


def test_explicitly_empty_setting_stays_empty(tmp_path: Path) -> None:
    env = env_for(tmp_path, IVR_SERVER_API_TOKEN="")
    config = load_config(None, env, local_secrets=True, generate_secrets=True)
    assert config.server.api_token == ""
    assert "server.api_token" not in read_secrets(secrets_path(tmp_path))


def test_without_generation_a_missing_file_still_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env_for(tmp_path), local_secrets=True)
    assert "twilio.auth_token" in str(info.value)
    assert str(secrets_path(tmp_path)) in str(info.value)
    assert not secrets_path(tmp_path).exists()


def test_an_env_mapping_is_hermetic_by_default(tmp_path: Path) -> None:
    load_config(None, env_for(tmp_path), local_secrets=True, generate_secrets=True)
    with pytest.raises(ConfigError):
        load_config(None, env_for(tmp_path))  # the file is there, but not read


@pytest.mark.parametrize("text, fragment", [
    ("[server\n", "secrets.toml"),
    ('[server]\nport = "1"\n', "server.port"),
    ('[twilio]\nauth_token = 5\n', "twilio.auth_token"),
])
def test_a_broken_secrets_file_names_itself_and_the_fix(tmp_path: Path, text: str,
                                                        fragment: str) -> None:
    secrets_path(tmp_path).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(None, env_for(tmp_path), local_secrets=True, generate_secrets=True)
    assert fragment in str(info.value)
    assert "secrets file" in str(info.value)


def test_missing_secrets_are_added_to_an_existing_file(tmp_path: Path) -> None:
    secrets_path(tmp_path).write_text('[twilio]\nauth_token = "kept"\n', encoding="utf-8")
    config = load_config(None, env_for(tmp_path), local_secrets=True, generate_secrets=True)
    assert config.twilio.auth_token == "kept"
    assert set(read_secrets(secrets_path(tmp_path))) == {s.name for s in SECRET_SETTINGS}
