"""Read-only REST API over call records (PII masked at write time), health, prompt audio."""

from __future__ import annotations

import io
import wave
from datetime import datetime

from aiohttp import web

from ivr.call.prompts import SystemPrompt
from ivr.core.types import Language
from ivr.web.keys import SERVICES
from ivr.web.security import check_api

MAX_OFFSET = 10**9


async def list_calls(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    check_api(services, request)
    try:
        limit = min(500, max(1, int(request.query.get("limit", "50"))))
        offset = int(request.query.get("offset", "0"))
        since = datetime.fromisoformat(request.query["since"]) if "since" in request.query \
            else None
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"bad query: {exc}\n") from exc
    if not 0 <= offset <= MAX_OFFSET:
        raise web.HTTPBadRequest(text=f"bad query: offset must be 0..{MAX_OFFSET}\n")
    if since is not None and since.utcoffset() is None:
        raise web.HTTPBadRequest(text="bad query: since needs a time zone "
                                      "(e.g. 2024-05-01T08:00:00+08:00 or ...Z)\n")
    calls = await services.store.list_calls(limit=limit, offset=offset, since=since)
    items = [services.store.call_to_dict(c, [], []) for c in calls]
    return web.json_response({"calls": items, "limit": limit, "offset": offset})


async def get_call(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    check_api(services, request)
    sid = request.match_info["sid"]
    call = await services.store.get_call(sid)
    if call is None:
        raise web.HTTPNotFound(text="no such call\n")
    turns = await services.store.get_turns(sid)
    events = await services.store.get_events(sid)
    return web.json_response(services.store.call_to_dict(call, turns, events))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    ready, reason = services.readiness.ready()
    body = {"ready": ready, "reason": reason, "parts": services.readiness.parts(),
            "active_calls": len(services.active)}
    return web.json_response(body, status=200 if ready else 503)


async def prompt_wav(request: web.Request) -> web.Response:
    """Pre-rendered refusal prompts, fetched by the provider's <Play> while a part is down."""
    services = request.app[SERVICES]
    try:
        prompt = SystemPrompt(request.match_info["name"])
        lang = Language(request.match_info["lang"])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc
    pcm = services.prompt_audio.get((prompt.value, lang))
    if pcm is None:
        raise web.HTTPNotFound()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(pcm.rate)
        out.writeframes(pcm.data)
    return web.Response(body=buf.getvalue(), content_type="audio/wav")


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    check_api(services, request)
    gauges = {"active_calls": float(len(services.active)),
              "ready": float(services.readiness.ready()[0])}
    if services.queue is not None:
        stats = await services.queue.stats()
        for key in ("queue_length", "longest_wait_s", "handled_today", "abandoned_today",
                    "timed_out_today", "orphaned_today", "mean_wait_s"):
            if isinstance(stats.get(key), int | float):
                gauges[f"agent_queue_{key}"] = float(stats[key])
    return web.Response(text=services.metrics.render(gauges), content_type="text/plain")


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{sid}", get_call)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/prompts/{name}-{lang}.wav", prompt_wav)
