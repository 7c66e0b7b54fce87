"""What happens after a dial: provider status callbacks, the conversation outcome, retries,
voicemail and the survey-link fallback.

Every transition is a conditional store update, so a repeated or late callback changes
nothing, and only the update that wins schedules the retry or the fallback.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from ivr.campaigns.context import CampaignContext
from ivr.campaigns.fallback import new_token, send_survey
from ivr.campaigns.mailer import MailError
from ivr.campaigns.model import (
    ACTIVE_ATTEMPTS,
    LIVE_STATES,
    Attempt,
    AttemptState,
    Campaign,
    TargetState,
)
from ivr.campaigns.policy import Policy
from ivr.campaigns.retry import FINAL_PROGRESS, PROGRESS_RANK, STATUS_STATES, next_attempt_at
from ivr.core.errors import ProviderApiError
from ivr.core.types import Language
from ivr.telephony.provider import AnsweredBy, CallProgress, VoicemailControl

log = logging.getLogger(__name__)

_OPEN_ATTEMPTS = (*ACTIVE_ATTEMPTS, AttemptState.UNKNOWN)
_OPEN_TARGETS = (*LIVE_STATES, TargetState.UNKNOWN)


async def _find(ctx: CampaignContext, call_sid: str, attempt_id: str | None) -> Attempt | None:
    attempt = await ctx.store.get_attempt(attempt_id) if attempt_id else None
    if attempt is None:
        return await ctx.store.attempt_by_sid(call_sid) if call_sid else None
    if attempt.call_sid is None and call_sid:
        # The callback came before place_call returned, or after a crash mid-dial: adopt it.
        adopted = await ctx.store.update_attempt(attempt.id, call_sid=call_sid)
        return adopted or attempt
    if attempt.call_sid != call_sid:
        log.warning("status callback for attempt %s names call %s, not %s; ignored",
                    attempt.id, call_sid[:10], (attempt.call_sid or "")[:10])
        return None
    return attempt


async def on_call_status(ctx: CampaignContext, call_sid: str, progress: CallProgress | None,
                         answered_by: AnsweredBy | None, attempt_id: str | None) -> None:
    attempt = await _find(ctx, call_sid, attempt_id)
    if attempt is None:
        return
    if answered_by is not None:
        attempt = await _answered_by(ctx, attempt, answered_by)
    state = STATUS_STATES.get(progress) if progress is not None else None
    if state is None:
        return
    if attempt.state in _OPEN_ATTEMPTS:
        if state in PROGRESS_RANK:
            await _progress(ctx, attempt, state)
        elif state is AttemptState.COMPLETED:
            await reached(ctx, attempt, None)
        else:
            await unreached(ctx, attempt, state)
    if progress in FINAL_PROGRESS:
        # The provider's final status: the call is over, even when the session ended or
        # voicemail closed the attempt before it; the campaign may use the line again.
        await ctx.store.release_line(attempt.id, ctx.now())


async def _answered_by(ctx: CampaignContext, attempt: Attempt,
                       answered_by: AnsweredBy) -> Attempt:
    if answered_by is not AnsweredBy.MACHINE or attempt.state not in _OPEN_ATTEMPTS:
        updated = await ctx.store.update_attempt(attempt.id, answered_by=answered_by.value)
        return updated or attempt
    campaign = await ctx.store.get_campaign(attempt.campaign_id)
    policy = campaign.policy if campaign is not None else ctx.defaults
    message = await _voicemail_text(ctx, policy, attempt.customer_id)
    action = "message" if message is not None else "hangup"
    won = await unreached(ctx, attempt, AttemptState.VOICEMAIL, answered_by=answered_by.value,
                          voicemail_action=action)
    if won is not None and attempt.call_sid:
        try:
            if message is not None and isinstance(ctx.control, VoicemailControl):
                await ctx.control.leave_message(attempt.call_sid, *message)
            else:
                await ctx.control.hangup(attempt.call_sid)
        except ProviderApiError as err:
            log.warning("%s on voicemail %s failed: %s", action, attempt.call_sid[:10], err)
            await ctx.store.update_attempt(attempt.id, voicemail_action=f"{action}_failed")
    return won or attempt


async def _voicemail_text(ctx: CampaignContext, policy: Policy,
                          customer_id: str) -> tuple[str, Language] | None:
    """The campaign's voicemail message in the customer's language; None: hang up."""
    if policy.voicemail != "message" or not isinstance(ctx.control, VoicemailControl):
        return None
    customer = await ctx.customers.get_customer(customer_id)
    lang = customer.language if customer is not None else Language.ZH
    text = policy.voicemail_message_en if lang is Language.EN else policy.voicemail_message
    return text, lang


async def _progress(ctx: CampaignContext, attempt: Attempt, state: AttemptState) -> None:
    lower = [s for s, rank in PROGRESS_RANK.items() if rank < PROGRESS_RANK[state]]
    extra = {"answered_at": ctx.now()} if state is AttemptState.IN_PROGRESS else {}
    await ctx.store.update_attempt(attempt.id, state=state,
                                   from_states=(*lower, AttemptState.UNKNOWN), **extra)
    await ctx.store.update_target(attempt.campaign_id, attempt.customer_id, ctx.now(),
                                  state=TargetState.IN_PROGRESS,
                                  from_states=(TargetState.DIALING, TargetState.UNKNOWN))


async def reached(ctx: CampaignContext, attempt: Attempt, outcome: str | None) -> None:
    """A person answered and the call is over: the target is completed."""
    fields: dict[str, object] = {"state": AttemptState.COMPLETED, "ended_at": ctx.now()}
    if outcome:
        fields["outcome"] = outcome
    await ctx.store.update_attempt(attempt.id, from_states=_OPEN_ATTEMPTS, **fields)
    target: dict[str, object] = {"state": TargetState.COMPLETED, "reason": None}
    if outcome or attempt.outcome:
        target["last_outcome"] = outcome or attempt.outcome
    await ctx.store.update_target(attempt.campaign_id, attempt.customer_id, ctx.now(),
                                  from_states=(*_OPEN_TARGETS, TargetState.COMPLETED), **target)


async def unreached(ctx: CampaignContext, attempt: Attempt, state: AttemptState,
                    **extra: object) -> Attempt | None:
    """Close the attempt as not reaching anyone; schedule the retry or the fallback.
    Returns the updated attempt, or None when another callback closed it first."""
    now = ctx.now()
    won = await ctx.store.update_attempt(attempt.id, state=state, ended_at=now,
                                         from_states=_OPEN_ATTEMPTS, **extra)
    if won is not None:
        await schedule_next(ctx, won, reason=state.value)
    return won


async def schedule_next(ctx: CampaignContext, attempt: Attempt, reason: str) -> None:
    campaign = await ctx.store.get_campaign(attempt.campaign_id)
    target = await ctx.store.get_target(attempt.campaign_id, attempt.customer_id)
    if campaign is None or target is None:
        return
    now = ctx.now()
    when = next_attempt_at(campaign.policy, target.attempts, now)
    if when is None:
        await ctx.store.update_target(campaign.id, target.customer_id, now,
                                      state=TargetState.FALLBACK_PENDING, reason=reason,
                                      from_states=_OPEN_TARGETS)
    else:
        await ctx.store.update_target(campaign.id, target.customer_id, now,
                                      state=TargetState.RETRYING, next_at=when, reason=reason,
                                      from_states=_OPEN_TARGETS)


async def on_call_finished(ctx: CampaignContext, call_sid: str, outcome: str) -> None:
    """The call session ended with ``outcome`` (a ``CallOutcome`` value)."""
    attempt = await ctx.store.attempt_by_sid(call_sid)
    if attempt is None:
        return
    if attempt.state in _OPEN_ATTEMPTS or attempt.state is AttemptState.COMPLETED:
        await reached(ctx, attempt, outcome)
    else:  # voicemail (the bot hung up on a machine) or already closed: keep the state
        await ctx.store.update_attempt(attempt.id, outcome=outcome)


async def send_fallbacks(ctx: CampaignContext, campaign: Campaign) -> int:
    """Send the survey link to every target whose last attempt failed; returns how many."""
    sent = 0
    for target in await ctx.store.list_targets(campaign.id, (TargetState.FALLBACK_PENDING,)):
        claimed = await ctx.store.update_target(
            campaign.id, target.customer_id, ctx.now(), state=TargetState.FALLBACK_SENDING,
            from_states=(TargetState.FALLBACK_PENDING,))
        if claimed is None:
            continue
        customer = await ctx.customers.get_customer(target.customer_id)
        final: dict[str, object]
        if customer is None or await ctx.store.is_dnc(campaign.id, target.customer_id):
            final = {"state": TargetState.FAILED,
                     "reason": "no_customer" if customer is None else "do_not_call"}
        else:
            try:
                result = await send_survey(customer, campaign.policy, ctx.control, ctx.mailer,
                                           ctx.settings.caller_id, new_token())
            except (ProviderApiError, MailError) as err:
                log.warning("survey link to %s failed: %s", target.customer_id, err)
                final = {"state": TargetState.FAILED, "reason": "fallback_failed"}
            else:
                if result.channel == "none":
                    final = {"state": TargetState.FAILED, "reason": "no_fallback_channel"}
                else:
                    sent += 1
                    final = {"state": TargetState.FALLBACK, "fallback_channel": result.channel,
                             "fallback_ref": result.ref, "fallback_token": result.token}
        await ctx.store.update_target(campaign.id, target.customer_id, ctx.now(),
                                      from_states=(TargetState.FALLBACK_SENDING,), **final)
    return sent


async def reconcile(ctx: CampaignContext, worker: str | None = None) -> int:
    """After a restart of ``worker`` (default: this one) or its death: its attempts still
    ``dialing`` may or may not have become calls. They are marked ``unknown`` (never
    redialled); a late status callback naming the attempt resolves them. Interrupted survey
    sends are not repeated. Returns the attempts marked."""
    now = ctx.now()
    marked = 0
    owner = ctx.settings.worker if worker is None else worker
    for attempt in await ctx.store.list_attempts(states=(AttemptState.DIALING,), worker=owner):
        if await ctx.store.update_attempt(attempt.id, state=AttemptState.UNKNOWN,
                                          error="process stopped while dialling",
                                          from_states=(AttemptState.DIALING,)):
            marked += 1
            await ctx.store.update_target(attempt.campaign_id, attempt.customer_id, now,
                                          state=TargetState.UNKNOWN, reason="dial_interrupted",
                                          from_states=(TargetState.DIALING,))
    for campaign in await ctx.store.list_campaigns():
        for target in await ctx.store.list_targets(campaign.id, (TargetState.FALLBACK_SENDING,)):
            await ctx.store.update_target(campaign.id, target.customer_id, now,
                                          state=TargetState.FALLBACK,
                                          reason="fallback_unconfirmed",
                                          from_states=(TargetState.FALLBACK_SENDING,))
    return marked


async def sweep_stale(ctx: CampaignContext) -> int:
    """Calls placed long ago with no final status (lost callbacks) become ``unknown``, and
    attempts the IVR closed (completed, voicemail) that still wait for the provider's final
    status release their lines ``line_grace_s`` after they closed: a lost callback cannot
    block a campaign for long. Returns the attempts marked unknown."""
    cutoff = ctx.now() - timedelta(seconds=ctx.settings.stale_after_s)
    grace = ctx.settings.line_grace_s
    released = await ctx.store.release_stale_lines(ctx.now() - timedelta(seconds=grace),
                                                   ctx.now())
    if released:
        log.warning("%d call line(s) released without a final status from the provider "
                    "within %.0f s of the call's end", released, grace)
    live = (AttemptState.INITIATED, AttemptState.RINGING, AttemptState.IN_PROGRESS)
    marked = 0
    for attempt in await ctx.store.list_attempts(states=live):
        if (attempt.dialed_at or attempt.created_at) >= cutoff:
            continue
        if await ctx.store.update_attempt(attempt.id, state=AttemptState.UNKNOWN,
                                          error="no final status from the provider",
                                          from_states=live):
            marked += 1
            await ctx.store.update_target(attempt.campaign_id, attempt.customer_id, ctx.now(),
                                          state=TargetState.UNKNOWN, reason="status_lost",
                                          from_states=LIVE_STATES)
    return marked
