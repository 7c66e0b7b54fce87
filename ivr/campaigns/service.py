"""``CampaignService``: the one object the app holds for campaigns.

* ``await service.start()`` reconciles interrupted dials and starts the dialer loop;
  ``await service.close()`` stops it (calls in progress are left to the provider).
* ``on_call_status`` is called for provider status reports, ``on_call_finished`` when a call
  session ends.
* ``tick()`` is one pass of the loop (tests call it with a fake clock instead of sleeping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from ivr.campaigns import admin, outcomes
from ivr.campaigns.context import CampaignContext
from ivr.campaigns.dialer import Dialer
from ivr.campaigns.model import OPEN_STATES, Campaign, CampaignState
from ivr.telephony.provider import AnsweredBy, CallProgress

log = logging.getLogger(__name__)


class CampaignService:
    def __init__(self, ctx: CampaignContext) -> None:
        self.ctx = ctx
        self.dialer = Dialer(ctx)
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        marked = await outcomes.reconcile(self.ctx)
        if marked:
            log.warning("%d dial attempt(s) were in flight when the process stopped; marked "
                        "unknown (not redialled; see `ivr campaign status`)", marked)
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="campaign-dialer")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.dialer.drain()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("campaign dialer pass failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.ctx.settings.poll_s)

    # -- one pass --------------------------------------------------------------------------

    async def tick(self) -> int:
        """Refresh rule targets, send due survey links, dial due targets, close finished
        campaigns. Returns the calls started."""
        await outcomes.sweep_stale(self.ctx)
        started = 0
        for campaign in await self.ctx.store.list_campaigns(CampaignState.RUNNING):
            await self._refresh_rules(campaign)
            await outcomes.send_fallbacks(self.ctx, campaign)
            started += await self.dialer.dial_due(campaign)
            await self._maybe_finish(campaign)
        return started

    async def _refresh_rules(self, campaign: Campaign) -> None:
        if not campaign.rules or (campaign.ends_at and campaign.ends_at <= self.ctx.now()):
            return
        every = timedelta(seconds=self.ctx.settings.rules_every_s)
        if campaign.rules_checked_at and self.ctx.now() - campaign.rules_checked_at < every:
            return
        added = await admin.select_by_rules(self.ctx, campaign)
        if added:
            log.info("campaign %s: %d new target(s) from its rules", campaign.id, added)

    async def _maybe_finish(self, campaign: Campaign) -> None:
        if campaign.rules and not (campaign.ends_at and campaign.ends_at <= self.ctx.now()):
            return  # rule campaigns keep finding customers until they end
        counts = await self.ctx.store.state_counts(campaign.id)
        if any(counts[s.value] for s in OPEN_STATES):
            return
        now = self.ctx.now()
        if await self.ctx.store.update_campaign(campaign.id, now, state=CampaignState.DONE,
                                                finished_at=now,
                                                from_states=(CampaignState.RUNNING,)):
            log.info("campaign %s is done", campaign.id)

    # -- provider and call events ----------------------------------------------------------

    async def on_call_status(self, call_sid: str, progress: CallProgress | None,
                             answered_by: AnsweredBy | None, attempt_id: str | None) -> None:
        """A provider status report (or answering-machine result; ``progress`` None)."""
        await outcomes.on_call_status(self.ctx, call_sid, progress, answered_by, attempt_id)

    async def on_call_finished(self, call_sid: str, outcome: str) -> None:
        """A call session ended with ``outcome`` (``CallOutcome`` value)."""
        await outcomes.on_call_finished(self.ctx, call_sid, outcome)
