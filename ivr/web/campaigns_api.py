"""REST API over outbound campaigns, behind the same rule as ``/api/calls`` (``check_api``).

* ``GET  /api/campaigns`` -> ``{"campaigns": [status, ...]}``
* ``POST /api/campaigns`` ``{"name", "id"?, "purpose"?, "rules"?: [{"kind", ...}],
  "policy"?: {...}, "ends_at"?}`` -> 201 campaign
* ``GET  /api/campaigns/{id}`` -> campaign with live ``counts``
* ``POST /api/campaigns/{id}/targets`` ``{"customer_ids": [...]}`` -> ``{"added", "already",
  "unknown"}``
* ``POST /api/campaigns/{id}/start|pause|resume`` -> campaign with counts
* ``POST /api/campaigns/{id}/dnc`` ``{"customer_ids": [...], "reason"?}`` -> ``{"added"}``
* ``POST /api/campaigns/{id}/requeue`` ``{"customer_ids"?: [...]}`` -> ``{"requeued"}``
* ``GET  /api/campaigns/{id}/report`` -> ``{"summary", "escalation_reasons", "outcomes",
  "faq_topics", "target_states"}`` (the HTML/PNG report is ``ivr campaign report``)

Errors are JSON ``{"error": code, "message": text}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ivr.campaigns import admin
from ivr.campaigns.context import CampaignContext
from ivr.campaigns.model import Purpose
from ivr.campaigns.policy import PolicyError
from ivr.campaigns.report import collect
from ivr.campaigns.rules import RuleError, rule_from_json
from ivr.web.internal import ApiError, json_errors, read_object, services_of
from ivr.web.security import check_api

_CODES = {401: "unauthorized", 403: "forbidden"}
_STATUS = {"not_found": 404, "exists": 409, "bad_state": 409, "invalid_field": 400}
MAX_IDS = 100_000


def _ctx(request: web.Request) -> CampaignContext:
    services = services_of(request)
    try:
        check_api(services, request)
    except web.HTTPException as err:
        raise ApiError(err.status, _CODES.get(err.status, "forbidden"),
                       (err.text or "").strip()) from None
    if services.campaigns is None:
        raise ApiError(503, "unavailable", "campaigns are not configured")
    return services.campaigns.ctx


async def _do(coro: Any) -> Any:
    try:
        return await coro
    except admin.CampaignError as err:
        raise ApiError(_STATUS.get(err.code, 400), err.code, str(err)) from None
    except (PolicyError, RuleError) as err:
        raise ApiError(400, "invalid_field", str(err)) from None


def _ids(body: dict[str, Any], required: bool = True) -> list[str]:
    ids = body.get("customer_ids", None if required else [])
    if not isinstance(ids, list) or len(ids) > MAX_IDS or not all(
            isinstance(i, str) and 0 < len(i) <= 64 for i in ids):
        raise ApiError(400, "invalid_field", "customer_ids must be a list of ids")
    return ids


@json_errors
async def list_campaigns(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    out = [await admin.status(ctx, c.id) for c in await ctx.store.list_campaigns()]
    return web.json_response({"campaigns": out})


@json_errors
async def create_campaign(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_object(request, frozenset({"name", "id", "purpose", "rules", "policy",
                                                 "ends_at"}))
    name, rules_raw, policy = body.get("name"), body.get("rules", []), body.get("policy", {})
    if not isinstance(name, str):
        raise ApiError(400, "invalid_field", "name must be a string")
    if not isinstance(rules_raw, list) or not isinstance(policy, dict):
        raise ApiError(400, "invalid_field", "rules must be a list and policy an object")
    try:
        purpose = Purpose(str(body.get("purpose", "service")))
        ends_at = datetime.fromisoformat(body["ends_at"]) if body.get("ends_at") else None
    except (ValueError, TypeError):
        raise ApiError(400, "invalid_field", "purpose or ends_at is invalid") from None
    if ends_at is not None and ends_at.tzinfo is None:
        ends_at = ends_at.replace(tzinfo=UTC)
    try:
        rules = [rule_from_json(r) for r in rules_raw]
    except RuleError as err:
        raise ApiError(400, "invalid_field", str(err)) from None
    campaign_id = body.get("id")
    if campaign_id is not None and not isinstance(campaign_id, str):
        raise ApiError(400, "invalid_field", "id must be a string")
    campaign = await _do(admin.create(ctx, name, purpose=purpose, rules=rules, policy=policy,
                                      campaign_id=campaign_id, ends_at=ends_at))
    return web.json_response(await admin.status(ctx, campaign.id), status=201)


@json_errors
async def get_campaign(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    return web.json_response(await _do(admin.status(ctx, request.match_info["id"])))


@json_errors
async def add_targets(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    ids = _ids(await read_object(request, frozenset({"customer_ids"})))
    result = await _do(admin.import_targets(ctx, request.match_info["id"], ids))
    return web.json_response({"added": result.added, "already": result.already,
                              "unknown": list(result.unknown)})


def _mover(name: str) -> Any:
    action = {"start": admin.start, "pause": admin.pause, "resume": admin.resume}[name]

    @json_errors
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = _ctx(request)
        campaign = await _do(action(ctx, request.match_info["id"]))
        return web.json_response(await admin.status(ctx, campaign.id))

    return handler


@json_errors
async def add_dnc(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_object(request, frozenset({"customer_ids", "reason"}))
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise ApiError(400, "invalid_field", "reason must be a string")
    added = await _do(admin.add_dnc(ctx, request.match_info["id"], _ids(body), reason))
    return web.json_response({"added": added})


@json_errors
async def requeue(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_object(request, frozenset({"customer_ids"}))
    moved = await _do(admin.requeue_unknown(ctx, request.match_info["id"],
                                            _ids(body, required=False)))
    return web.json_response({"requeued": moved})


@json_errors
async def report(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    data = await _do(collect(ctx, request.match_info["id"]))
    m = data.metrics()
    return web.json_response({
        "summary": m.summary(), "escalation_reasons": dict(m.escalation_reasons),
        "outcomes": dict(m.outcomes), "faq_topics": dict(m.faq_topics),
        "target_states": dict(m.target_states)})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/campaigns", list_campaigns)
    app.router.add_post("/api/campaigns", create_campaign)
    app.router.add_get("/api/campaigns/{id}", get_campaign)
    app.router.add_post("/api/campaigns/{id}/targets", add_targets)
    for name in ("start", "pause", "resume"):
        app.router.add_post(f"/api/campaigns/{{id}}/{name}", _mover(name))
    app.router.add_post("/api/campaigns/{id}/dnc", add_dnc)
    app.router.add_post("/api/campaigns/{id}/requeue", requeue)
    app.router.add_get("/api/campaigns/{id}/report", report)
