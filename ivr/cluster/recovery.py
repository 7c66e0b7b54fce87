"""What is left of a worker that died (or of this worker's previous process): its live calls
end with an error outcome, the callers it held in the agent queue are offered a callback,
its in-flight dials -- and the calls it placed whose media it held -- are marked unknown
(never redialled; a late provider status still resolves them). Leases on campaign targets
need nothing: they run out and the targets are due again. Each step is atomic in the store,
so two workers taking over at once do each thing once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ivr.agents.queue import AgentQueue
from ivr.campaigns import outcomes
from ivr.campaigns.model import AttemptState, TargetState
from ivr.campaigns.service import CampaignService
from ivr.core.types import CallOutcome
from ivr.customers.model import FollowUpKind
from ivr.customers.service import CustomerService
from ivr.store.base import CallStore
from ivr.store.records import CallEvent

log = logging.getLogger(__name__)
LOST = "worker_lost"


@dataclass
class TakeOver:
    worker: str
    calls_ended: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)
    dials_unknown: int = 0


async def end_lost_calls(calls: CallStore, worker: str, now: datetime) -> list[str]:
    """End the not-yet-ended calls held by ``worker`` as failed (``worker_lost``)."""
    ended = []
    for call in await calls.live_calls(worker):
        await calls.update_call(call.call_sid, outcome=call.outcome or CallOutcome.FAILED,
                                error_code=call.error_code or LOST, ended_at=now)
        await calls.add_event(CallEvent(call_sid=call.call_sid, kind="error", code=LOST,
                                        at=now, detail={"worker": worker}))
        ended.append(call.call_sid)
    return ended


async def book_callbacks(queue: AgentQueue, customers: CustomerService | None, worker: str,
                         why: str) -> list[str]:
    """Orphan the queue entries held by ``worker``; a callback follow-up for each caller."""
    booked = []
    for entry in await queue.recover_worker(worker):
        if customers is not None:
            customer = entry.context.get("customer") or {}
            await customers.add_followup(
                FollowUpKind.CALLBACK, f"queued for an agent ({entry.reason}) when {why}",
                call_sid=entry.call_sid, customer_id=customer.get("customer_id"))
        booked.append(entry.call_sid)
    return booked


_PLACED = (AttemptState.INITIATED, AttemptState.RINGING, AttemptState.IN_PROGRESS)


async def _lost_placed_calls(campaigns: CampaignService, calls: CallStore, worker: str) -> int:
    """Calls ``worker`` placed whose media it held (or that never reached any worker's media
    socket): nobody will report their conversation outcome. A call whose media landed on a
    live worker is left to it."""
    ctx, marked = campaigns.ctx, 0
    for attempt in await ctx.store.list_attempts(states=_PLACED, worker=worker):
        call = await calls.get_call(attempt.call_sid) if attempt.call_sid else None
        if call is not None and call.worker not in (None, "", worker) and call.ended_at is None:
            continue
        if await ctx.store.update_attempt(attempt.id, state=AttemptState.UNKNOWN,
                                          error=f"worker {worker} stopped during the call",
                                          from_states=_PLACED):
            marked += 1
            await ctx.store.update_target(attempt.campaign_id, attempt.customer_id, ctx.now(),
                                          state=TargetState.UNKNOWN, reason=LOST,
                                          from_states=(TargetState.DIALING,
                                                       TargetState.IN_PROGRESS))
    return marked


async def take_over(worker: str, *, calls: CallStore, queue: AgentQueue,
                    customers: CustomerService | None, campaigns: CampaignService | None,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> TakeOver:
    report = TakeOver(worker)
    report.calls_ended = await end_lost_calls(calls, worker, clock())
    report.callbacks = await book_callbacks(queue, customers, worker,
                                            f"its IVR worker {worker} stopped")
    if campaigns is not None:
        report.dials_unknown = await outcomes.reconcile(campaigns.ctx, worker=worker)
        report.dials_unknown += await _lost_placed_calls(campaigns, calls, worker)
    log.warning("took over worker %s: %d call(s) ended, %d callback(s) booked, %d dial(s) "
                "unknown", worker, len(report.calls_ended), len(report.callbacks),
                report.dials_unknown)
    return report
