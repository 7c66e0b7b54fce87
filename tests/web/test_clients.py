"""The client address used for per-client limits."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request

from ivr.web.clients import client_address, trusted_set


def request(peer: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    req = make_mocked_request("GET", "/", headers=headers)
    return req.clone(remote=peer)


def test_peer_unless_it_is_a_trusted_proxy() -> None:
    trusted = trusted_set("127.0.0.1, ::1, not-an-ip")
    assert trusted == {"127.0.0.1", "::1"}
    assert client_address(request("198.51.100.1", "1.2.3.4"), trusted) == "198.51.100.1"
    assert client_address(request("127.0.0.1", "9.9.9.9, 1.2.3.4"), trusted) == "1.2.3.4"
    assert client_address(request("127.0.0.1", "garbage"), trusted) == "127.0.0.1"
    assert client_address(request("127.0.0.1"), trusted) == "127.0.0.1"
