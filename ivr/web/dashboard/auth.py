"""Who is asking: the session cookie, CSRF checks and the dashboard's service lookups."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from ivr.agents.accounts import AgentDirectory
from ivr.agents.queue import AgentQueue
from ivr.agents.sessions import LiveSession
from ivr.web.keys import SERVICES
from ivr.web.services import Services

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_SESSION = "ivr_dashboard"
_LOGIN_CSRF = "ivr_dashboard_login"
_DEVICE = "ivr_dashboard_browser"
DEVICE_MAX_AGE_S = 180 * 24 * 3600


class DashboardError(Exception):
    """Answered as JSON ``{"error": code, "message": text}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class _Resolved:
    live: LiveSession | None


_LIVE = web.RequestKey("dashboard_session", _Resolved)


@dataclass(frozen=True, slots=True)
class Parts:
    services: Services
    agents: AgentDirectory
    queue: AgentQueue


def parts(request: web.Request) -> Parts:
    services = request.config_dict.get(SERVICES)
    if services is None or services.agents is None or services.queue is None:
        raise DashboardError(503, "unavailable", "the agent dashboard is not configured")
    return Parts(services, services.agents, services.queue)


def secure(request: web.Request) -> bool:
    services = request.config_dict.get(SERVICES)
    return services is not None and services.config.server.public_url.startswith("https:")


def cookie_name(request: web.Request, login: bool = False) -> str:
    # "__Host-" makes the browser refuse the cookie unless Secure, Path=/ and host-only.
    base = _LOGIN_CSRF if login else _SESSION
    return f"__Host-{base}" if secure(request) else base


def set_cookie(request: web.Request, response: web.StreamResponse, value: str,
               login: bool = False, max_age: int | None = None) -> None:
    response.set_cookie(cookie_name(request, login), value, path="/", httponly=True,
                        samesite="Strict", secure=secure(request), max_age=max_age)


def device_cookie_name(request: web.Request) -> str:
    return f"__Host-{_DEVICE}" if secure(request) else _DEVICE


def set_device_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    """The trusted-browser cookie (``ivr.agents.devices``): long-lived, script-proof."""
    response.set_cookie(device_cookie_name(request), value, path="/", httponly=True,
                        samesite="Strict", secure=secure(request), max_age=DEVICE_MAX_AGE_S)


def clear_cookie(request: web.Request, response: web.StreamResponse,
                 login: bool = False) -> None:
    response.del_cookie(cookie_name(request, login), path="/", secure=secure(request),
                        httponly=True, samesite="Strict")


async def current(request: web.Request) -> LiveSession | None:
    """The caller's live session (looked up once per request), or None."""
    if _LIVE in request:
        return request[_LIVE].live
    token = request.cookies.get(cookie_name(request), "")
    live = await parts(request).agents.sessions.resume(token) if token else None
    request[_LIVE] = _Resolved(live)
    return live


async def require(request: web.Request) -> LiveSession:
    live = await current(request)
    if live is None:
        raise DashboardError(401, "unauthorized", "log in first")
    return live


def same_origin(request: web.Request) -> bool:
    """False when the browser says the request comes from another site."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def tokens_match(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


async def require_csrf(request: web.Request, live: LiveSession, given: str | None = None
                       ) -> None:
    """403 unless the request carries the session's CSRF token and is not cross-site."""
    token = given if given is not None else request.headers.get(CSRF_HEADER, "")
    if not same_origin(request) or not tokens_match(token, live.csrf):
        raise DashboardError(403, "csrf", "missing or invalid CSRF token")
