"""REST API over follow-up tasks, behind the same rule as ``/api/calls`` (``check_api``).

* ``GET  /api/followups?status=open|done&call_sid=..&limit=..&offset=..`` -> ``{"followups"}``
* ``POST /api/followups/{id}/done`` (optional body ``{"owner": "..."}``) -> the task

Errors are JSON ``{"error": code, "message": text}``.
"""

from __future__ import annotations

from aiohttp import web

from ivr.customers.model import FollowUpStatus
from ivr.customers.views import followup_to_dict
from ivr.web.internal import ApiError, customers_of, json_errors, read_object, services_of
from ivr.web.security import check_api
from ivr.web.services import Services

_CODES = {401: "unauthorized", 403: "forbidden"}


def _checked(request: web.Request) -> Services:
    services = services_of(request)
    try:
        check_api(services, request)
    except web.HTTPException as err:
        raise ApiError(err.status, _CODES.get(err.status, "forbidden"),
                       (err.text or "").strip()) from None
    return services


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.query.get(name, str(default)))
    except ValueError:
        raise ApiError(400, "bad_query", f"{name} must be an integer") from None
    return min(high, max(low, value))


@json_errors
async def list_followups(request: web.Request) -> web.StreamResponse:
    services = _checked(request)
    status_text = request.query.get("status", "all")
    try:
        status = None if status_text == "all" else FollowUpStatus(status_text)
    except ValueError:
        raise ApiError(400, "bad_query", "status must be open, done or all") from None
    limit = _int(request, "limit", 100, 1, 500)
    offset = _int(request, "offset", 0, 0, 10**9)
    tasks = await customers_of(services).store.list_followups(
        status=status, limit=limit, offset=offset, call_sid=request.query.get("call_sid"))
    return web.json_response({"followups": [followup_to_dict(t) for t in tasks],
                              "limit": limit, "offset": offset})


@json_errors
async def followup_done(request: web.Request) -> web.StreamResponse:
    services = _checked(request)
    try:
        task_id = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "no such follow-up") from None
    if not 0 < task_id < 2**63:  # beyond SQLite's integers: no such row either
        raise ApiError(404, "not_found", "no such follow-up")
    body = await read_object(request, frozenset({"owner"}))
    owner = body.get("owner")
    if owner is not None and (not isinstance(owner, str) or not 0 < len(owner) <= 64):
        raise ApiError(400, "invalid_field", "owner must be a string of 1..64 characters")
    task = await customers_of(services).store.complete_followup(task_id, owner)
    if task is None:
        raise ApiError(404, "not_found", "no such follow-up")
    return web.json_response(followup_to_dict(task))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/followups", list_followups)
    app.router.add_post("/api/followups/{id}/done", followup_done)
