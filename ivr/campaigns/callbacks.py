"""A callback the caller asked for becomes real work: a one-customer campaign whose only
target is due at the time the caller chose, placed in their time zone and calling windows.

The dialer treats it like any target (do-not-call still applies; frequency caps do not: the
customer asked for this call). ``book`` places the wish; ``schedule`` creates the campaign.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from ivr.campaigns import admin
from ivr.campaigns.context import CampaignContext
from ivr.campaigns.model import CALLBACK_SOURCE, Campaign, CampaignState, TargetState
from ivr.campaigns.windows import windows_for
from ivr.customers.model import DEFAULT_TIMEZONE
from ivr.text.callback_slot import CallbackSlot, resolve
from ivr.text.callback_time import parse_callback_time

log = logging.getLogger(__name__)

PREFIX = "cb-"


@dataclass(frozen=True, slots=True)
class Booking:
    slot: CallbackSlot
    readback: str  # the due time in the caller's language, for the read-back


async def book(ctx: CampaignContext, customer_id: str | None, words: str,
               lang: str) -> Booking:
    """Where ``words`` ("明天上午", "after 6 pm", "" = no time named) fall for this customer."""
    customer = await ctx.customers.get_customer(customer_id) if customer_id else None
    timezone = customer.timezone if customer is not None else DEFAULT_TIMEZONE
    policy = ctx.defaults

    def windows(day: date) -> tuple[tuple[int, int], ...]:
        return windows_for(policy, day)

    now = ctx.now()
    slot = resolve(parse_callback_time(words), now, timezone, windows)
    return Booking(slot, slot.phrase(lang, now))


async def schedule(ctx: CampaignContext, followup_id: int, customer_id: str,
                   booking: Booking) -> Campaign:
    """The one-customer campaign ``cb-<follow-up id>``, running, its target due then."""
    now = ctx.now()
    campaign = await admin.create(ctx, f"callback for follow-up {followup_id}",
                                  campaign_id=f"{PREFIX}{followup_id}")
    await ctx.store.add_targets(campaign.id, [(customer_id, CALLBACK_SOURCE)], now)
    await ctx.store.update_target(campaign.id, customer_id, now, next_at=booking.slot.due_at,
                                  state=TargetState.QUEUED)
    moved = await ctx.store.update_campaign(campaign.id, now, state=CampaignState.RUNNING,
                                            started_at=now, from_states=(CampaignState.DRAFT,))
    log.info("callback %s scheduled for %s (follow-up %s)", campaign.id,
             booking.slot.due_at.isoformat(), followup_id)
    return moved or campaign
