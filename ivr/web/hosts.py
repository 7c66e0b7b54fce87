"""Which ``Host`` header values the server answers (pure; no I/O).

Allowed: the host of ``server.public_url`` (with and without its default port), the entries of
``server.allowed_hosts`` (an entry without a port matches any port), and the listen address for
local health checks (``127.0.0.1``/``localhost``/``[::1]`` when listening on loopback or on every
interface). Anything else -- a rebinding DNS name, a forged ``Host`` -- is refused.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_WILDCARDS = frozenset({"", "0.0.0.0", "::", "*"})
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def split_host(value: str) -> tuple[str, int | None] | None:
    """``"Example.com:8080"`` -> ``("example.com", 8080)``; None when it is not a host."""
    value = value.strip().lower()
    if not value or any(c in value for c in "/@?#\\ \t"):
        return None
    try:
        parts = urlsplit("//" + value)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return _bracket(host), port


@dataclass(frozen=True, slots=True)
class AllowedHosts:
    exact: frozenset[tuple[str, int | None]]
    any_port: frozenset[str]

    def allows(self, header: str | None) -> bool:
        parsed = split_host(header or "")
        if parsed is None:
            return False
        host, _port = parsed
        return parsed in self.exact or host in self.any_port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(public_url: str, listen_host: str, listen_port: int,
                  extra: str = "") -> AllowedHosts:
    exact: set[tuple[str, int | None]] = set()
    url = urlsplit(public_url)
    if url.hostname:
        host = _bracket(url.hostname.lower())
        default = _DEFAULT_PORTS.get(url.scheme)
        port = url.port or default
        exact.add((host, port))
        if port == default:
            exact.add((host, None))
    listen = listen_host.strip().lower()
    if listen in _WILDCARDS or _is_loopback(listen):
        exact.update((name, listen_port) for name in _LOOPBACK_NAMES)
    if listen not in _WILDCARDS:
        exact.add((_bracket(listen), listen_port))
    any_port: set[str] = set()
    for entry in extra.split(","):
        parsed = split_host(entry)
        if parsed is None:
            continue
        if parsed[1] is None:
            any_port.add(parsed[0])
        else:
            exact.add(parsed)
    return AllowedHosts(frozenset(exact), frozenset(any_port))
