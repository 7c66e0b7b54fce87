"""The API access rule (bearer token or supervisor session); provider signatures are checked
by each provider adapter.

No client is trusted for its network position: ``/api/*`` and ``/metrics`` need
``Authorization: Bearer <server.api_token>`` or the dashboard session of a supervisor (with the
CSRF header on state changes). Without a configured token only supervisors' sessions get in.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from ivr.web.services import Services

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_CLIENT = web.RequestKey("api_client", str)  # who passed the API rule: "token" / "agent:<id>"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ivr"'}


def _unauthorized(message: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(text=message + "\n", headers=_CHALLENGE)


def bearer_ok(services: Services, request: web.Request) -> bool:
    """True for ``Authorization: Bearer <server.api_token>``; 401 for any other Authorization.

    False when no Authorization header was sent."""
    header = request.headers.get("Authorization")
    if header is None:
        return False
    token = services.config.server.api_token
    scheme, _, given = header.strip().partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()):
        return True
    log.warning("API refused %s %s from %s: bad bearer token", request.method, request.path,
                request.remote)
    raise _unauthorized("invalid bearer token")


async def authorize_api(services: Services, request: web.Request) -> None:
    """The API rule, applied by the guard middleware to ``/api/*`` and ``/metrics``."""
    from ivr.web.dashboard.auth import DashboardError, current, same_origin, tokens_match

    if bearer_ok(services, request):
        request[API_CLIENT] = "token"
        return
    try:
        live = await current(request) if services.agents is not None else None
    except DashboardError:
        live = None
    if live is not None:
        if not live.agent.is_supervisor:
            raise web.HTTPForbidden(text="the API is for supervisors (or the API token)\n")
        if request.method not in SAFE_METHODS and not (
                same_origin(request)
                and tokens_match(request.headers.get("X-CSRF-Token", ""), live.csrf)):
            raise web.HTTPForbidden(text="missing or invalid CSRF token\n")
        request[API_CLIENT] = f"agent:{live.agent.id}"
        return
    if not services.config.server.api_token:
        raise _unauthorized("the API needs a bearer token (set server.api_token) or a "
                            "supervisor's dashboard session")
    raise _unauthorized("bearer token required")


def check_api(services: Services, request: web.Request) -> None:
    """Inside a handler: the request passed :func:`authorize_api` or carries the token.

    Kept in every API handler as a second line of defence (e.g. an app built without the guard
    middleware); never opens the API to anyone for their address."""
    if API_CLIENT in request:
        return
    if bearer_ok(services, request):
        request[API_CLIENT] = "token"
        return
    raise _unauthorized("bearer token required")
