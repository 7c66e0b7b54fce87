"""Allowed Host headers (pure)."""

from __future__ import annotations

import pytest

from ivr.web.hosts import allowed_hosts

HOSTS = allowed_hosts("https://ivr.example.com", "127.0.0.1", 8080,
                      "ivr.internal, 10.0.0.5:8081, [fd00::1]:9000")


@pytest.mark.parametrize("host", [
    "ivr.example.com", "IVR.Example.com", "ivr.example.com:443", "127.0.0.1:8080",
    "localhost:8080", "[::1]:8080", "ivr.internal", "ivr.internal:1234", "10.0.0.5:8081",
    "[fd00::1]:9000"])
def test_allowed(host: str) -> None:
    assert HOSTS.allows(host)


@pytest.mark.parametrize("host", [
    None, "", "evil.example.net", "ivr.example.com:80", "ivr.example.com.evil.net",
    "127.0.0.1", "127.0.0.1:8081", "10.0.0.5:8080", "user@ivr.example.com",
    "ivr.example.com/x", "ivr.example.com:99999", "[fd00::1]:9001", "ivr.example.com:abc"])
def test_refused(host: str | None) -> None:
    assert not HOSTS.allows(host)


def test_specific_listen_address_and_non_default_public_port() -> None:
    hosts = allowed_hosts("http://203.0.113.7:8443", "192.0.2.10", 9000)
    assert hosts.allows("203.0.113.7:8443") and hosts.allows("192.0.2.10:9000")
    assert not hosts.allows("203.0.113.7") and not hosts.allows("127.0.0.1:9000")
    wildcard = allowed_hosts("https://a.example", "0.0.0.0", 9000)
    assert wildcard.allows("127.0.0.1:9000") and wildcard.allows("localhost:9000")
