"""Password hashes with ``hashlib.scrypt``: per-user random salt, constant-time compare.

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<key b64>``, so the cost can be raised later
without invalidating existing hashes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
KEY_BYTES = 32
SALT_BYTES = 16
MIN_LENGTH = 8
MAX_LENGTH = 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=KEY_BYTES)


def check_strength(password: str) -> None:
    """ValueError unless the password is acceptable for a new account."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValueError(f"password must be {MIN_LENGTH}..{MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for any malformed hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _derive(password, base64.b64decode(salt, validate=True), int(n), int(r),
                         int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_hash() -> str:
    """Verified against when the username is unknown, so both cases cost the same time."""
    return hash_password(secrets.token_urlsafe(16))
