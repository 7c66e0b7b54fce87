"""The request guard: runs before every handler (root app and the dashboard sub-app).

In order: origin-form request target only (``GET http://host/x`` is refused), a known ``Host``,
a route covered by the access table (``ivr.web.access``), the body type that route accepts
(``application/json`` for JSON APIs, ``application/x-www-form-urlencoded`` for webhooks and
login forms; UTF-8 only), then the API rule for ``/api/*`` and ``/metrics``.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Middleware

from ivr.config import Config
from ivr.web.access import Access, Body, rule_for
from ivr.web.errors import Handler, error_response, errors_middleware
from ivr.web.hosts import AllowedHosts, allowed_hosts
from ivr.web.keys import SERVICES
from ivr.web.security import SAFE_METHODS, authorize_api

log = logging.getLogger(__name__)

_MIME = {Body.JSON: "application/json", Body.FORM: "application/x-www-form-urlencoded"}
_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def body_problem(request: web.Request, kind: Body) -> str | None:
    """Why this request's body type is not accepted here, or None."""
    if request.method in SAFE_METHODS or not request.body_exists:
        return None  # nothing to read (clients label even an empty body, e.g. octet-stream)
    header = request.headers.get("Content-Type")
    if header is None:
        return "a body needs a Content-Type"
    if kind is Body.NONE:
        return "this route takes no body"
    if request.content_type != _MIME[kind]:
        return f"Content-Type must be {_MIME[kind]} (got {request.content_type[:60]})"
    charset = request.charset
    if charset is not None and charset.lower() not in _CHARSETS:
        return f"charset must be utf-8 (got {charset[:40]})"
    return None


def make_guard(hosts: AllowedHosts) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.raw_path.startswith("/"):
            return error_response(400, "bad_target",
                                  "only origin-form request targets (/path) are accepted")
        if not hosts.allows(request.headers.get("Host")):
            log.warning("refused %s %s from %s: unknown Host %r", request.method,
                        request.path, request.remote, (request.headers.get("Host") or "")[:80])
            return error_response(400, "unknown_host",
                                  "unknown Host header (see server.allowed_hosts)")
        rule = rule_for(request.path)
        if rule is None:
            return error_response(404, "not_found", "no such route")
        access, kind = rule
        problem = body_problem(request, kind)
        if problem is not None:
            return error_response(415, "unsupported_media_type", problem)
        if access is Access.API:
            services = request.app.get(SERVICES) or request.config_dict.get(SERVICES)
            if services is None:
                return error_response(503, "unavailable", "the server is starting")
            await authorize_api(services, request)
        return await handler(request)

    return guard


def middlewares(config: Config) -> list[Middleware]:
    server = config.server
    hosts = allowed_hosts(server.public_url, server.host, server.port, server.allowed_hosts)
    return [errors_middleware, make_guard(hosts)]
