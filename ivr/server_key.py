"""The server's own secret, and the keys derived from it for one purpose each.

``server.secret_key`` (environment or a git-ignored config file) wins; otherwise the key lives
in ``server.secret_key_file`` (default ``<data_dir>/secrets/server.key``), created at random with
mode 0600 the first time it is needed. Every process of one installation (``ivr serve``,
``ivr customers import``) reads the same file, so hashes written by one are checked by another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ivr.config import Config
from ivr.core.errors import ConfigError

KEY_BYTES = 32


def _read_or_create(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except ValueError as err:
        raise ConfigError(f"setting server.secret_key_file: {path} is not a hex key") from err
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return _read_or_create(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    return key


def server_key(config: Config) -> bytes:
    if config.server.secret_key:
        return config.server.secret_key.encode("utf-8")
    try:
        key = _read_or_create(config.secret_key_file())
    except OSError as err:
        raise ConfigError(f"setting server.secret_key_file: {err}") from err
    if len(key) < 16:
        raise ConfigError("setting server.secret_key_file: the key is too short")
    return key


def derive(key: bytes, purpose: str) -> bytes:
    """A separate key for ``purpose`` (e.g. ``"id-last4"``): HMAC-SHA256(key, purpose)."""
    return hmac.new(key, purpose.encode("utf-8"), hashlib.sha256).digest()
