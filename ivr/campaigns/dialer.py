"""The dialer: picks due targets of running campaigns and places their calls.

Per campaign, at most ``policy.max_concurrent`` lines are held (over every worker), and calls
start at most ``policy.calls_per_second`` per second.

A line is a call that may be up at the provider, as a trunk with a channel limit counts it
(``count_lines_held``). An attempt holds one from ``begin_attempt`` on while it is active
(``dialing``, ``initiated``, ``ringing``, ``in_progress``), and after the IVR closed it as
``completed`` (the call session ended) or ``voicemail`` (a machine answered; the hang-up is
only requested) until the provider's final status (completed, busy, no answer, failed,
canceled) sets ``line_released_at``. When that status is lost, ``outcomes.sweep_stale``
releases the line ``line_grace_s`` (120 s) after the attempt closed. A refused dial
(``error``: no call exists), an attempt closed by its final status, and one declared
``unknown`` (a restart, a lost status, a dial whose outcome is unknown) hold none; a late
progress report that makes an unknown attempt active again makes it hold its line again.

Each worker's dialer leases only as many due targets as it has free call slots
(``claim_due``: two workers never get the same target; a lease that runs out returns the
target to the queue), so calls spread over the workers with capacity. Before each request
the attempt is written as ``dialing`` (``begin_attempt``), so a crash between that write
and the provider's answer leaves a trace that ``reconcile`` turns into ``unknown`` instead
of a second call.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from ivr.campaigns import eligibility, outcomes
from ivr.campaigns.context import CampaignContext
from ivr.campaigns.model import (
    CALLBACK_SOURCE,
    DUE_STATES,
    AttemptState,
    Campaign,
    Target,
    TargetState,
)
from ivr.campaigns.pacing import Pacer
from ivr.campaigns.retry import retryable_http
from ivr.campaigns.windows import next_call_time
from ivr.core.errors import ProviderApiError
from ivr.customers.model import Customer
from ivr.telephony.base import ProviderHttpError
from ivr.telephony.provider import OutboundCall

log = logging.getLogger(__name__)
MAX_ERROR = 300


def dial_params(campaign: Campaign, customer_id: str, attempt_id: str) -> dict[str, str]:
    """What the call carries back to the IVR when it is answered and in status reports."""
    params = {"customer_id": customer_id, "campaign_id": campaign.id, "attempt_id": attempt_id}
    if campaign.policy.reward:
        params["campaign_reward"] = campaign.policy.reward
    return params


class Dialer:
    def __init__(self, ctx: CampaignContext) -> None:
        self.ctx = ctx
        self._pacers: dict[str, Pacer] = {}
        self._inflight: set[asyncio.Task[None]] = set()

    async def drain(self) -> None:
        """Wait for every provider request in flight (tests; shutdown)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    def _pacer(self, campaign: Campaign) -> Pacer:
        pacer = self._pacers.get(campaign.id)
        if pacer is None:
            pacer = Pacer(campaign.policy.calls_per_second, self.ctx.monotonic, self.ctx.sleep)
            self._pacers[campaign.id] = pacer
        pacer.set_rate(campaign.policy.calls_per_second)
        return pacer

    async def _free(self, campaign: Campaign) -> int:
        held = await self.ctx.store.count_lines_held(campaign.id)
        free = campaign.policy.max_concurrent - held
        if self.ctx.capacity is not None:
            free = min(free, await self.ctx.capacity() - len(self._inflight))
        return free

    async def dial_due(self, campaign: Campaign) -> int:
        """Start calls for due targets, within the campaign's concurrency limit and this
        worker's free capacity; returns how many."""
        ctx, started = self.ctx, 0
        free = await self._free(campaign)
        try:
            for _ in range(4):  # skipped targets make room for more, a few rounds at most
                if started >= free:
                    break
                now = ctx.now()
                claimed = await ctx.store.claim_due(
                    campaign.id, now, free - started, ctx.settings.worker,
                    now + timedelta(seconds=ctx.settings.lease_s))
                if not claimed:
                    break
                for target in claimed:
                    started += await self._dial(campaign, target)
        finally:
            await ctx.store.release_leases(campaign.id, ctx.settings.worker)
        return started

    async def _dial(self, campaign: Campaign, target: Target) -> int:
        customer = await self._ready(campaign, target)
        if customer is None:
            return 0
        await self._pacer(campaign).acquire()
        attempt = await self.ctx.store.begin_attempt(target, self.ctx.new_id(), self.ctx.now(),
                                                     self.ctx.settings.worker)
        if attempt is None:
            return 0
        task = asyncio.create_task(self._place(campaign, customer, attempt.id))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return 1

    async def _ready(self, campaign: Campaign, target: Target) -> Customer | None:
        """The customer when they may be called right now; otherwise the target is skipped
        or moved to its next calling window, and None is returned."""
        store, now = self.ctx.store, self.ctx.now()
        customer = await self.ctx.customers.get_customer(target.customer_id)
        if customer is None:
            await self._skip(target, "no_customer")
            return None
        history = None
        if target.attempts == 0 and target.source != CALLBACK_SOURCE:
            since = now - timedelta(days=campaign.policy.period_days)
            history = eligibility.ContactHistory(
                *await store.contact_history(customer.customer_id, campaign.id, since))
        verdict = eligibility.check(
            customer, campaign.purpose, campaign.policy, now,
            do_not_call=await store.is_dnc(campaign.id, customer.customer_id), history=history)
        if not verdict.ok:
            await self._skip(target, verdict.reason)
            return None
        when = next_call_time(now, customer.timezone, campaign.policy)
        if when is None:
            await self._skip(target, "no_calling_window")
            return None
        if when > now:
            await self._later(target, when)
            return None
        return customer

    async def _skip(self, target: Target, reason: str) -> None:
        await self.ctx.store.update_target(
            target.campaign_id, target.customer_id, self.ctx.now(),
            state=TargetState.SKIPPED if target.attempts == 0 else TargetState.FAILED,
            reason=reason, from_states=DUE_STATES)

    async def _later(self, target: Target, when: datetime) -> None:
        await self.ctx.store.update_target(target.campaign_id, target.customer_id,
                                           self.ctx.now(), next_at=when, from_states=DUE_STATES)

    async def _place(self, campaign: Campaign, customer: Customer, attempt_id: str) -> None:
        ctx = self.ctx
        try:
            sid = await ctx.control.originate(OutboundCall(
                customer.phone, ctx.settings.caller_id,
                dial_params(campaign, customer.customer_id, attempt_id),
                machine_detection=campaign.policy.machine_detection))
        except ProviderApiError as err:
            await self._refused(attempt_id, err)
            return
        except Exception:  # a bug, not a provider answer: whether a call exists is unknown
            log.exception("placing attempt %s failed unexpectedly", attempt_id)
            await self._unknown(attempt_id, "dial raised an unexpected error")
            return
        await ctx.store.update_attempt(attempt_id, call_sid=sid, dialed_at=ctx.now())
        placed = await ctx.store.update_attempt(attempt_id, state=AttemptState.INITIATED,
                                                from_states=(AttemptState.DIALING,))
        if placed is not None:
            await ctx.store.update_target(campaign.id, customer.customer_id, ctx.now(),
                                          state=TargetState.IN_PROGRESS,
                                          from_states=(TargetState.DIALING,))

    async def _refused(self, attempt_id: str, err: ProviderApiError) -> None:
        status = err.http_status if isinstance(err, ProviderHttpError) else 0
        if status == 0:
            # Timed out or the connection broke: the provider may have created the call.
            await self._unknown(attempt_id, str(err)[:MAX_ERROR])
            return
        attempt = await self.ctx.store.update_attempt(
            attempt_id, state=AttemptState.ERROR, error=str(err)[:MAX_ERROR],
            ended_at=self.ctx.now(), from_states=(AttemptState.DIALING,))
        if attempt is None:
            return
        if retryable_http(status):
            await outcomes.schedule_next(self.ctx, attempt, reason=f"provider_http_{status}")
        else:
            code = getattr(err, "provider_code", None)
            await self.ctx.store.update_target(
                attempt.campaign_id, attempt.customer_id, self.ctx.now(),
                state=TargetState.FAILED, reason=f"provider_refused:{code or status}",
                from_states=(TargetState.DIALING,))

    async def _unknown(self, attempt_id: str, error: str) -> None:
        attempt = await self.ctx.store.update_attempt(
            attempt_id, state=AttemptState.UNKNOWN, error=error,
            from_states=(AttemptState.DIALING,))
        if attempt is not None:
            await self.ctx.store.update_target(
                attempt.campaign_id, attempt.customer_id, self.ctx.now(),
                state=TargetState.UNKNOWN, reason="dial_outcome_unknown",
                from_states=(TargetState.DIALING,))
