"""The dashboard's JSON API (session cookie; state changes need the ``X-CSRF-Token`` header).

* ``GET  /dashboard/api/queue`` -> ``{"entries", "server_time"}`` (waiting, in service order)
* ``GET  /dashboard/api/entries/{id}`` -> the context card
* ``POST /dashboard/api/entries/{id}/accept`` -> ``{"ok", "entry"}``; 409 ``already_taken``,
  403 ``language``, 502 ``transfer_failed`` (the entry is back at the head of the queue)
* ``POST /dashboard/api/presence`` ``{"presence"}`` -> the agent
* ``POST /dashboard/api/wrapup`` ``{"entry_id", "disposition", "notes"}`` -> ``{"wrapup"}``
* ``GET  /dashboard/api/overview`` (supervisors) -> stats, agents, open follow-ups
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ivr.agents.model import Presence, QueueEntry
from ivr.agents.queue import AlreadyTaken, TransferFailed, UnknownEntry
from ivr.core.errors import StoreError
from ivr.web.dashboard.auth import DashboardError, Parts, parts, require, require_csrf
from ivr.web.dashboard.overview import overview
from ivr.web.dashboard.views import agent_view, context_card, entry_view

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DISPOSITIONS = ("resolved", "follow_up_needed", "callback_scheduled", "transferred_elsewhere",
                "caller_hung_up", "other")
MAX_NOTES = 2000


def json_api(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except DashboardError as err:
            return web.json_response({"error": err.code, "message": err.message},
                                     status=err.status)
        except StoreError as err:
            log.error("%s %s: %s", request.method, request.path, err)
            return web.json_response({"error": "store_failed", "message": "store failure"},
                                     status=500)

    return wrapper


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads) if request.can_read_body else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DashboardError(400, "bad_json", "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise DashboardError(400, "bad_request", "body must be a JSON object")
    return body


def _entry_id(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise DashboardError(404, "not_found", "no such queue entry") from None


async def _entry(p: Parts, entry_id: int) -> QueueEntry:
    entry = await p.queue.get(entry_id)
    if entry is None:
        raise DashboardError(404, "not_found", "no such queue entry")
    return entry


async def queue_snapshot(p: Parts) -> dict[str, Any]:
    entries = await p.queue.waiting()
    return {"entries": [entry_view(e) for e in entries],
            "server_time": datetime.now(UTC).isoformat()}


@json_api
async def get_queue(request: web.Request) -> web.StreamResponse:
    await require(request)
    return web.json_response(await queue_snapshot(parts(request)))


@json_api
async def get_entry(request: web.Request) -> web.StreamResponse:
    await require(request)
    p = parts(request)
    entry = await _entry(p, _entry_id(request.match_info["id"]))
    call = await p.services.store.get_call(entry.call_sid)
    turns = await p.services.store.get_turns(entry.call_sid) if call is not None else []
    return web.json_response(context_card(entry, call, turns))


@json_api
async def accept(request: web.Request) -> web.StreamResponse:
    live = await require(request)
    await require_csrf(request, live)
    p = parts(request)
    entry = await _entry(p, _entry_id(request.match_info["id"]))
    if not live.agent.speaks(entry.language):
        raise DashboardError(403, "language", f"you do not take {entry.language.value} calls")
    if p.services.handoff is None:
        raise DashboardError(503, "unavailable", "call handoff is not configured")
    try:
        await p.services.handoff.accept(entry.id, live.agent)
    except AlreadyTaken:
        raise DashboardError(409, "already_taken",
                             "already taken by another agent (or the caller left)") from None
    except UnknownEntry:
        raise DashboardError(404, "not_found", "no such queue entry") from None
    except TransferFailed as err:
        raise DashboardError(502, "transfer_failed",
                             f"{err}; the call is back at the head of the queue") from None
    return web.json_response({"ok": True, "entry": entry_view(await _entry(p, entry.id))})


@json_api
async def set_presence(request: web.Request) -> web.StreamResponse:
    live = await require(request)
    await require_csrf(request, live)
    body = await _body(request)
    try:
        presence = Presence(str(body.get("presence")))
    except ValueError:
        raise DashboardError(400, "invalid_field",
                             "presence must be available, busy or away") from None
    agent = await parts(request).agents.set_presence(live.agent.id, presence)
    if agent is None:
        raise DashboardError(401, "unauthorized", "your account no longer exists")
    return web.json_response(agent_view(agent))


@json_api
async def wrapup(request: web.Request) -> web.StreamResponse:
    live = await require(request)
    await require_csrf(request, live)
    body = await _body(request)
    p = parts(request)
    entry = await _entry(p, _entry_id(body.get("entry_id")))
    if entry.agent_id != live.agent.id and not live.agent.is_supervisor:
        raise DashboardError(403, "not_yours", "only the agent who took the call files it")
    disposition, notes = body.get("disposition"), body.get("notes", "")
    if disposition not in DISPOSITIONS:
        raise DashboardError(400, "invalid_field",
                             f"disposition must be one of {', '.join(DISPOSITIONS)}")
    if not isinstance(notes, str) or len(notes) > MAX_NOTES:
        raise DashboardError(400, "invalid_field", f"notes: at most {MAX_NOTES} characters")
    filed = {"disposition": disposition, "notes": notes.strip(), "entry_id": entry.id,
             "agent_id": live.agent.id, "agent": live.agent.display_name,
             "at": datetime.now(UTC).isoformat()}
    if await p.services.store.get_call(entry.call_sid) is None:
        raise DashboardError(404, "not_found", "the call record does not exist")
    call = await p.services.store.update_call(entry.call_sid, details={"wrapup": filed})
    return web.json_response({"wrapup": call.details.get("wrapup")})


@json_api
async def get_overview(request: web.Request) -> web.StreamResponse:
    live = await require(request)
    if not live.agent.is_supervisor:
        raise DashboardError(403, "forbidden", "supervisors only")
    return web.json_response(await overview(parts(request)))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/queue", get_queue)
    app.router.add_get("/api/entries/{id}", get_entry)
    app.router.add_post("/api/entries/{id}/accept", accept)
    app.router.add_post("/api/presence", set_presence)
    app.router.add_post("/api/wrapup", wrapup)
    app.router.add_get("/api/overview", get_overview)
