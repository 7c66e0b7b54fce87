"""The server's secret: from the setting, else a 0600 file created once and reused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.config import load_config
from ivr.core.errors import ConfigError
from ivr.server_key import derive, server_key


def test_created_once_private_and_reused(tmp_path: Path) -> None:
    config = load_config(None, {"IVR_SERVER_DATA_DIR": str(tmp_path)}, check=False)
    first = server_key(config)
    path = tmp_path / "secrets" / "server.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(first) == 32 and server_key(config) == first


def test_the_setting_wins_and_a_broken_file_is_named(tmp_path: Path) -> None:
    config = load_config(None, {"IVR_SERVER_SECRET_KEY": "from-the-environment-0123456789"},
                         check=False)
    assert server_key(config) == b"from-the-environment-0123456789"
    bad = tmp_path / "bad.key"
    bad.write_text("not hex", encoding="ascii")
    broken = load_config(None, {"IVR_SERVER_SECRET_KEY_FILE": str(bad)}, check=False)
    with pytest.raises(ConfigError, match="secret_key_file"):
        server_key(broken)


def test_derived_keys_differ_per_purpose() -> None:
    key = b"k" * 32
    assert derive(key, "id-last4") != derive(key, "dashboard-browser")
    assert derive(key, "id-last4") == derive(key, "id-last4")
