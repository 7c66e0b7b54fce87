"""The agent dashboard, mounted at ``/dashboard/`` as a sub-application (see ``setup``).

Needs ``Services.agents``, ``Services.queue`` and (for Accept) ``Services.handoff``; without
them every dashboard route answers 503.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ivr.web.dashboard import api, events, pages

STATIC = Path(__file__).with_name("static")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/dashboard/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


def build() -> web.Application:
    sub = web.Application()
    sub[events.STREAMS] = set()
    sub[events.OWNERS] = {}
    pages.add_routes(sub)
    api.add_routes(sub)
    sub.router.add_get("/events", events.events)
    sub.router.add_static("/static", STATIC)
    sub.on_response_prepare.append(_headers)
    sub.on_shutdown.append(events.close_streams)
    return sub


def setup(app: web.Application) -> None:
    """Mount the dashboard on ``app`` (``/dashboard`` redirects to ``/dashboard/``)."""
    app.router.add_get("/dashboard", pages.to_home)
    app.add_subapp("/dashboard", build())
