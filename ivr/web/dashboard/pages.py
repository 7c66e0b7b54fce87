"""Login, logout and the dashboard page (server-rendered shells; data comes from the API).

Login is protected against cross-site posting with a double-submit token (a cookie and a
hidden field that must match); failed logins back off per client and per username, except in
a browser that logged in as that agent before (``ivr.agents.login``).
"""

from __future__ import annotations

import functools
import html
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template

from aiohttp import web

from ivr.web.clients import client_address, trusted_set
from ivr.web.dashboard.auth import (
    CSRF_FIELD,
    DashboardError,
    clear_cookie,
    cookie_name,
    current,
    device_cookie_name,
    parts,
    require_csrf,
    same_origin,
    set_cookie,
    set_device_cookie,
    tokens_match,
)

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).with_name("templates")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LOGIN_PATH = "/dashboard/login"
HOME_PATH = "/dashboard/"


@functools.cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(name: str, values: dict[str, object], status: int = 200) -> web.Response:
    """The template with every value HTML-escaped (attributes included)."""
    text = _template(name).substitute({k: html.escape(str(v), quote=True)
                                       for k, v in values.items()})
    return web.Response(text=text, status=status, content_type="text/html")


def page(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except DashboardError as err:
            return web.Response(text=f"{err.message}\n", status=err.status)

    return wrapper


def _login_page(request: web.Request, status: int = 200, error: str = "",
                username: str = "") -> web.Response:
    token = request.cookies.get(cookie_name(request, login=True)) or secrets.token_urlsafe(32)
    response = render("login.html", {"csrf": token, "error": error, "username": username},
                      status)
    set_cookie(request, response, token, login=True)
    return response


@page
async def login_form(request: web.Request) -> web.StreamResponse:
    parts(request)  # 503 until the dashboard is wired
    if await current(request) is not None:
        raise web.HTTPFound(HOME_PATH)
    return _login_page(request)


@page
async def login(request: web.Request) -> web.StreamResponse:
    p = parts(request)
    guard = p.services.logins
    if guard is None:
        raise DashboardError(503, "unavailable", "dashboard login is not configured")
    form = await request.post()
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))
    expected = request.cookies.get(cookie_name(request, login=True), "")
    if not same_origin(request) or not tokens_match(str(form.get(CSRF_FIELD, "")), expected):
        return _login_page(request, 403, "The form expired; please try again.", username)
    client = client_address(request, trusted_set(p.services.config.server.trusted_proxies))
    result = await guard.attempt(username, password, client,
                                 request.cookies.get(device_cookie_name(request)))
    if result.retry_after_s > 0:
        log.warning("dashboard login for %r from %s refused: back-off %.0f s", username,
                    client, result.retry_after_s)
        response = _login_page(request, 429, "Too many failed attempts; try again later.",
                               username)
        response.headers["Retry-After"] = str(max(1, math.ceil(result.retry_after_s)))
        return response
    agent = result.agent
    if agent is None:
        log.info("dashboard login failed for %r from %s", username, client)
        return _login_page(request, 401, "Wrong username or password.", username)
    token, _live = await p.agents.sessions.start(agent)
    log.info("agent %s logged in to the dashboard", agent.id)
    response = web.Response(status=303, headers={"Location": HOME_PATH})
    set_cookie(request, response, token)
    clear_cookie(request, response, login=True)
    if result.device_cookie:
        set_device_cookie(request, response, result.device_cookie)
    return response


@page
async def logout(request: web.Request) -> web.StreamResponse:
    live = await current(request)
    response = web.Response(status=303, headers={"Location": LOGIN_PATH})
    if live is not None:
        form = await request.post()
        await require_csrf(request, live, str(form.get(CSRF_FIELD, "")))
        await parts(request).agents.sessions.end(live)
    clear_cookie(request, response)
    return response


@page
async def home(request: web.Request) -> web.StreamResponse:
    live = await current(request)
    if live is None:
        raise web.HTTPFound(LOGIN_PATH)
    agent = live.agent
    values: dict[str, object] = {
        f"sel_{p}": " selected" if agent.presence.value == p else ""
        for p in ("available", "busy", "away")}
    values.update(csrf=live.csrf, agent_id=agent.id, role=agent.role.value,
                  languages=",".join(lang.value for lang in agent.languages),
                  display_name=agent.display_name)
    return render("index.html", values)


async def to_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(HOME_PATH)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
