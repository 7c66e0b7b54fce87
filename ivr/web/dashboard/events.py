"""``GET /dashboard/events``: the live queue as server-sent events (401 when logged out).

Events: ``hello`` (the agent), ``queue`` (every waiting entry, in service order, re-sent after
each change; bursts are coalesced), ``change`` (what happened: kind and entry id),
``overview`` (supervisors only: stats, agents, follow-ups; also every heartbeat) and
``logout`` (the session ended; the stream closes). A comment line every heartbeat keeps
proxies from closing the stream and keeps the session alive while the dashboard is open.

Open streams are bounded: ``MAX_PER_AGENT`` per agent (a few tabs) and ``MAX_STREAMS`` in all;
beyond either the answer is 429, so one account cannot hold the server's sockets and queue
subscriptions.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from ivr.agents.feed import Subscription
from ivr.agents.sessions import LiveSession
from ivr.web.dashboard.api import json_api, queue_snapshot
from ivr.web.dashboard.auth import DashboardError, Parts, cookie_name, parts, require
from ivr.web.dashboard.overview import overview
from ivr.web.dashboard.views import agent_view

log = logging.getLogger(__name__)
HEARTBEAT_S = 15.0
STREAMS = web.AppKey("dashboard_streams", set[Subscription])
OWNERS = web.AppKey("dashboard_stream_owners", dict[Subscription, int])  # stream -> agent id
MAX_PER_AGENT = 4
MAX_STREAMS = 200


def _frame(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class _Stream:
    def __init__(self, request: web.Request, p: Parts, live: LiveSession,
                 response: web.StreamResponse, sub: Subscription) -> None:
        self.request, self.p, self.live = request, p, live
        self.response, self.sub = response, sub

    async def send(self, event: str, data: Any) -> None:
        await self.response.write(_frame(event, data))

    async def snapshot(self) -> None:
        await self.send("queue", await queue_snapshot(self.p))
        if self.live.agent.is_supervisor:
            await self.send("overview", await overview(self.p))

    async def still_logged_in(self) -> bool:
        token = self.request.cookies.get(cookie_name(self.request), "")
        return await self.p.agents.sessions.resume(token) is not None

    async def run(self) -> None:
        await self.response.write(b"retry: 3000\n\n")
        await self.send("hello", agent_view(self.live.agent))
        await self.snapshot()
        while not self.sub.closed:
            change = await self.sub.next(HEARTBEAT_S)
            if change is None:
                if self.sub.closed:
                    return
                if not await self.still_logged_in():
                    await self.send("logout", {"reason": "session ended"})
                    return
                await self.response.write(b": ping\n\n")
                if self.live.agent.is_supervisor:
                    await self.send("overview", await overview(self.p))
                continue
            for each in [change, *self.sub.drain()]:
                await self.send("change", {"kind": each.kind.value, "entry_id": each.entry.id,
                                           "call_sid": each.entry.call_sid,
                                           "status": each.entry.status.value})
            await self.snapshot()


@json_api
async def events(request: web.Request) -> web.StreamResponse:
    live = await require(request)
    p = parts(request)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
        "X-Accel-Buffering": "no"})
    streams, owners = request.app[STREAMS], request.app[OWNERS]
    if len(streams) >= MAX_STREAMS:
        raise DashboardError(429, "too_many_streams", "too many dashboards are open; retry later")
    if sum(1 for owner in owners.values() if owner == live.agent.id) >= MAX_PER_AGENT:
        raise DashboardError(429, "too_many_streams",
                             f"at most {MAX_PER_AGENT} dashboards per agent; close one")
    sub = p.queue.subscribe()
    streams.add(sub)
    owners[sub] = live.agent.id
    try:
        await response.prepare(request)
        await _Stream(request, p, live, response, sub).run()
    except ConnectionResetError:
        log.debug("dashboard stream of agent %s closed by the browser", live.agent.id)
    finally:
        sub.close()
        streams.discard(sub)
        owners.pop(sub, None)
    return response


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open stream so the server does not wait for browsers."""
    streams = app[STREAMS]
    for sub in [*streams]:
        sub.close()
