"""API access rules for routes (provider signatures are checked by each provider adapter)."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from aiohttp import web

from ivr.web.services import Services

log = logging.getLogger(__name__)


def check_api(services: Services, request: web.Request) -> None:
    """The REST API needs the bearer token when one is configured, else loopback clients only."""
    token = services.config.server.api_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise web.HTTPUnauthorized(text="bearer token required\n")
        return
    try:
        loopback = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise web.HTTPForbidden(text="API open to loopback only unless server.api_token is set\n")
