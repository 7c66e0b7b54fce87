"""The server's own secret (``server.secret_key``), and the keys derived from it for one purpose
each.

The setting comes from the environment or a config file, else from the generated secrets file
(``ivr.secrets``): every process of one installation (``ivr serve``, ``ivr customers import``)
reads the same value, so hashes written by one are checked by another. Its UTF-8 bytes are the
key; ``hex:…`` gives the raw key bytes instead (how a key file of earlier versions was moved in).
"""

from __future__ import annotations

import hashlib
import hmac

from ivr.config import Config
from ivr.core.errors import ConfigError

MIN_KEY_BYTES = 16


def server_key(config: Config) -> bytes:
    value = config.server.secret_key
    if not value:
        raise ConfigError("setting server.secret_key: empty (leave it unset to have one "
                          "generated into <server.data_dir>/secrets.toml, or set a random "
                          "string of at least 16 bytes)")
    if value.startswith("hex:"):
        try:
            key = bytes.fromhex(value.removeprefix("hex:"))
        except ValueError as err:
            raise ConfigError("setting server.secret_key: 'hex:' must be followed by hex "
                              "digits") from err
    else:
        key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"setting server.secret_key: too short (at least {MIN_KEY_BYTES} "
                          f"bytes)")
    return key


def derive(key: bytes, purpose: str) -> bytes:
    """A separate key for ``purpose`` (e.g. ``"id-last4"``): HMAC-SHA256(key, purpose)."""
    return hmac.new(key, purpose.encode("utf-8"), hashlib.sha256).digest()
