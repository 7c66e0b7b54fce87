"""Who may use each route: one table, checked by the guard middleware for every request.

A path that no rule covers is answered 404 before any handler runs, so a new route cannot be
reachable without saying who may use it (``tests/security`` checks every registered route).
"""

from __future__ import annotations

from enum import StrEnum


class Access(StrEnum):
    PUBLIC = "public"  # health, readiness, pre-rendered apology audio (<Play>)
    PROVIDER = "provider"  # telephony webhooks and media socket: provider signature per route
    API = "api"  # bearer token (server.api_token) or a supervisor's dashboard session
    INTERNAL = "internal"  # the action server: loopback + X-IVR-Internal-Token
    DASHBOARD = "dashboard"  # agents: session cookie, CSRF on state changes (in the routes)


class Body(StrEnum):
    NONE = "none"
    JSON = "json"
    FORM = "form"


# (path prefix or exact path, exact?, access, body accepted by POST/PUT/PATCH/DELETE)
_RULES: tuple[tuple[str, bool, Access, Body], ...] = (
    ("/healthz", True, Access.PUBLIC, Body.NONE),
    ("/readyz", True, Access.PUBLIC, Body.NONE),
    ("/prompts/", False, Access.PUBLIC, Body.NONE),
    ("/twilio/", False, Access.PROVIDER, Body.FORM),
    ("/metrics", True, Access.API, Body.NONE),
    ("/api/", False, Access.API, Body.JSON),
    ("/internal/", False, Access.INTERNAL, Body.JSON),
    ("/dashboard/api/", False, Access.DASHBOARD, Body.JSON),
    ("/dashboard/login", True, Access.DASHBOARD, Body.FORM),
    ("/dashboard/logout", True, Access.DASHBOARD, Body.FORM),
    ("/dashboard", True, Access.DASHBOARD, Body.NONE),
    ("/dashboard/", False, Access.DASHBOARD, Body.NONE),
)


def rule_for(path: str) -> tuple[Access, Body] | None:
    """The access rule and accepted body kind for ``path``; None: no route may be there."""
    for prefix, exact, access, body in _RULES:
        if path == prefix or (not exact and path.startswith(prefix)):
            return access, body
    return None
