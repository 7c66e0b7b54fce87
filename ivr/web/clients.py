"""Who the client is, for per-client limits: the peer address, or -- only when the peer is a
configured trusted reverse proxy -- the last address it appended to ``X-Forwarded-For``."""

from __future__ import annotations

import ipaddress

from aiohttp import web


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def trusted_set(setting: str) -> frozenset[str]:
    return frozenset(ip for ip in (_ip(v) for v in setting.split(",") if v.strip()) if ip)


def client_address(request: web.Request, trusted: frozenset[str]) -> str:
    peer = _ip(request.remote or "") or "unknown"
    if peer in trusted:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1]
        return _ip(forwarded) or peer
    return peer
