"""Trusted-browser cookies for the dashboard login (pure; the key is passed in).

A browser that logged in as an agent gets a signed cookie naming that agent and a random
browser id. Its later logins as that agent are counted against that browser only, never against
the username, so other people's failed guesses cannot keep the agent out of their own browser
(OWASP "device cookies"). A cookie for another username, or one not signed with our key, is
ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

MAX_COOKIE = 300


def _mac(key: bytes, username: str, browser: str) -> str:
    return hmac.new(key, f"{username}\n{browser}".encode(), hashlib.sha256).hexdigest()[:32]


def issue(key: bytes, username: str, browser: str | None = None) -> str:
    browser = browser or secrets.token_urlsafe(16)
    name = base64.urlsafe_b64encode(username.encode()).decode().rstrip("=")
    return f"{name}.{browser}.{_mac(key, username, browser)}"


def browser_for(key: bytes, cookie: str | None, username: str) -> str | None:
    """The browser id when ``cookie`` is ours and names ``username``; else None."""
    if not cookie or len(cookie) > MAX_COOKIE or cookie.count(".") != 2:
        return None
    name, browser, mac = cookie.split(".")
    try:
        named = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if named != username or not browser:
        return None
    return browser if hmac.compare_digest(mac, _mac(key, username, browser)) else None
