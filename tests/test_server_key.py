"""The server's secret: ``server.secret_key``, generated into the one secrets file like the other
secrets when unset; a key file of earlier versions is moved in so its hashes keep matching."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.config import load_config
from ivr.core.errors import ConfigError
from ivr.customers.idhash import IdHasher
from ivr.secrets import read_secrets, secrets_path
from ivr.server_key import derive, server_key


def generated(data_dir: Path, names: bool | set[str] = True) -> bytes:
    config = load_config(None, {"IVR_SERVER_DATA_DIR": str(data_dir)}, local_secrets=True,
                         generate_secrets=names, check=False)
    return server_key(config)


def test_generated_once_into_the_secrets_file_and_reused(tmp_path: Path) -> None:
    first = generated(tmp_path, {"server.secret_key"})
    path = secrets_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(read_secrets(path)) == {"server.secret_key"}  # only what was asked for
    assert len(first) >= 32
    # `ivr serve` later generates the rest and keeps the key `ivr customers import` hashed with.
    assert generated(tmp_path) == first
    assert len(read_secrets(path)) > 1
    assert not (tmp_path / "secrets").exists()


def test_the_setting_wins_and_is_not_written(tmp_path: Path) -> None:
    config = load_config(None, {"IVR_SERVER_DATA_DIR": str(tmp_path),
                                "IVR_SERVER_SECRET_KEY": "from-the-environment-0123456789"},
                         local_secrets=True, generate_secrets=True, check=False)
    assert server_key(config) == b"from-the-environment-0123456789"
    assert "server.secret_key" not in read_secrets(secrets_path(tmp_path))


@pytest.mark.parametrize(("value", "fragment"), [
    ("", "empty"), ("short", "too short"), ("hex:zz", "hex digits"), ("hex:00ff", "too short"),
])
def test_unusable_values_name_the_setting(value: str, fragment: str) -> None:
    config = load_config(None, {"IVR_SERVER_SECRET_KEY": value}, check=False)
    with pytest.raises(ConfigError, match=fragment) as err:
        server_key(config)
    assert "server.secret_key" in str(err.value)


def test_a_key_file_of_earlier_versions_is_moved_in_and_its_hashes_still_match(
        tmp_path: Path) -> None:
    legacy = tmp_path / "secrets" / "server.key"
    legacy.parent.mkdir(mode=0o700)
    raw = bytes(range(32))
    legacy.write_text(raw.hex() + "\n", encoding="ascii")
    before = IdHasher(raw).hash("C1", "123X")  # what the earlier version stored
    key = generated(tmp_path)
    assert key == raw
    assert IdHasher(key).hash("C1", "123X") == before
    assert read_secrets(secrets_path(tmp_path))["server.secret_key"] == f"hex:{raw.hex()}"
    assert not legacy.exists() and not legacy.parent.exists()
    assert generated(tmp_path) == raw


def test_derived_keys_differ_per_purpose() -> None:
    key = b"k" * 32
    assert derive(key, "id-last4") != derive(key, "dashboard-browser")
    assert derive(key, "id-last4") == derive(key, "id-last4")
