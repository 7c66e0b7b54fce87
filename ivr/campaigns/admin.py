"""Managing campaigns: create, add targets (rules or an explicit list), start, pause, resume,
the do-not-call list, and the live status. Used by the CLI, the REST API and the dialer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.campaigns.context import CampaignContext
from ivr.campaigns.model import Campaign, CampaignState, Purpose, Rule, TargetState
from ivr.campaigns.rules import first_match
from ivr.customers.model import FollowUpKind, FollowUpStatus

Progress = Callable[[int], None]  # called with how many more items are done
PAGE = 500
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATUS_GROUPS: dict[str, tuple[TargetState, ...]] = {
    "queued": (TargetState.QUEUED,),
    "dialing": (TargetState.DIALING,),
    "in_progress": (TargetState.IN_PROGRESS,),
    "retrying": (TargetState.RETRYING,),
    "completed": (TargetState.COMPLETED,),
    "fallback": (TargetState.FALLBACK_PENDING, TargetState.FALLBACK_SENDING,
                 TargetState.FALLBACK),
    "failed": (TargetState.FAILED,),
    "skipped": (TargetState.SKIPPED,),
    "unknown": (TargetState.UNKNOWN,),
}


class CampaignError(ValueError):
    """A request that cannot be done (``code``: not_found, exists, bad_state,
    invalid_field)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _noop(_: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    already: int
    unknown: tuple[str, ...]


async def create(ctx: CampaignContext, name: str, *, purpose: Purpose = Purpose.SERVICE,
                 rules: Sequence[Rule] = (), policy: dict[str, Any] | None = None,
                 campaign_id: str | None = None, ends_at: datetime | None = None) -> Campaign:
    if not name.strip() or len(name) > 200:
        raise CampaignError("invalid_field", "name must be 1..200 characters")
    if campaign_id is not None and not _ID.fullmatch(campaign_id):
        raise CampaignError("invalid_field", "id must be 1..64 letters, digits, - or _")
    if campaign_id is not None and await ctx.store.get_campaign(campaign_id) is not None:
        raise CampaignError("exists", f"campaign {campaign_id!r} already exists")
    now = ctx.now()
    campaign = Campaign(
        id=campaign_id or "cmp-" + uuid.uuid4().hex[:10], name=name.strip(), purpose=purpose,
        rules=tuple(rules), policy=ctx.defaults.updated(policy or {}), created_at=now,
        updated_at=now, ends_at=ends_at)
    return await ctx.store.create_campaign(campaign)


async def get(ctx: CampaignContext, campaign_id: str) -> Campaign:
    campaign = await ctx.store.get_campaign(campaign_id)
    if campaign is None:
        raise CampaignError("not_found", f"no campaign {campaign_id!r}")
    return campaign


async def import_targets(ctx: CampaignContext, campaign_id: str, customer_ids: Iterable[str],
                         progress: Progress = _noop) -> ImportResult:
    """Add an explicit customer list (unknown ids are reported, not added)."""
    campaign = await get(ctx, campaign_id)
    if campaign.state is CampaignState.DONE:
        raise CampaignError("bad_state", "the campaign is done")
    known: list[tuple[str, str]] = []
    unknown: list[str] = []
    for cid in dict.fromkeys(c.strip() for c in customer_ids if c.strip()):
        if await ctx.customers.get_customer(cid) is None:
            unknown.append(cid)
        else:
            known.append((cid, "list"))
        progress(1)
    added = await ctx.store.add_targets(campaign.id, known, ctx.now())
    return ImportResult(added, len(known) - added, tuple(unknown))


async def _open_complaints(ctx: CampaignContext) -> set[str]:
    out: set[str] = set()
    offset = 0
    while True:
        page = await ctx.customers.list_followups(FollowUpStatus.OPEN, limit=PAGE, offset=offset)
        out.update(t.customer_id for t in page
                   if t.kind is FollowUpKind.COMPLAINT and t.customer_id)
        if len(page) < PAGE:
            return out
        offset += PAGE


async def select_by_rules(ctx: CampaignContext, campaign: Campaign,
                          progress: Progress = _noop) -> int:
    """Add every customer a rule matches now; returns how many targets are new."""
    if not campaign.rules:
        return 0
    now = ctx.now()
    complaints = await _open_complaints(ctx)
    added, offset = 0, 0
    while True:
        page = await ctx.customers.list_customers(limit=PAGE, offset=offset)
        picked = []
        for customer in page:
            rule = first_match(campaign.rules, customer, now, complaints)
            if rule is not None:
                picked.append((customer.customer_id, rule.kind.value))
        added += await ctx.store.add_targets(campaign.id, picked, now)
        progress(len(page))
        if len(page) < PAGE:
            break
        offset += PAGE
    await ctx.store.update_campaign(campaign.id, now, rules_checked_at=now)
    return added


async def _move(ctx: CampaignContext, campaign_id: str, to: CampaignState,
                from_states: tuple[CampaignState, ...], **fields: Any) -> Campaign:
    await get(ctx, campaign_id)
    moved = await ctx.store.update_campaign(campaign_id, ctx.now(), from_states=from_states,
                                            state=to, **fields)
    if moved is None:
        names = " or ".join(s.value for s in from_states)
        raise CampaignError("bad_state", f"campaign {campaign_id!r} is not {names}")
    return moved


async def start(ctx: CampaignContext, campaign_id: str, progress: Progress = _noop) -> Campaign:
    campaign = await get(ctx, campaign_id)
    if campaign.state is not CampaignState.DRAFT:
        raise CampaignError("bad_state", f"campaign {campaign_id!r} is {campaign.state.value}")
    await select_by_rules(ctx, campaign, progress)
    return await _move(ctx, campaign_id, CampaignState.RUNNING, (CampaignState.DRAFT,),
                       started_at=ctx.now())


async def pause(ctx: CampaignContext, campaign_id: str) -> Campaign:
    return await _move(ctx, campaign_id, CampaignState.PAUSED, (CampaignState.RUNNING,))


async def resume(ctx: CampaignContext, campaign_id: str) -> Campaign:
    return await _move(ctx, campaign_id, CampaignState.RUNNING, (CampaignState.PAUSED,))


async def add_dnc(ctx: CampaignContext, campaign_id: str, customer_ids: Iterable[str],
                  reason: str = "") -> int:
    """Never call these customers in this campaign (``*``: in any campaign)."""
    if campaign_id != "*":
        await get(ctx, campaign_id)
    return await ctx.store.add_dnc(campaign_id, [c for c in customer_ids if c],
                                   reason[:200], ctx.now())


async def requeue_unknown(ctx: CampaignContext, campaign_id: str,
                          customer_ids: Sequence[str] = ()) -> int:
    """An operator's decision, after checking the provider's call log, that interrupted dials
    never became calls: dial those targets again."""
    await get(ctx, campaign_id)
    ids = customer_ids or [t.customer_id for t in
                           await ctx.store.list_targets(campaign_id, (TargetState.UNKNOWN,))]
    moved = 0
    for cid in ids:
        moved += await ctx.store.update_target(
            campaign_id, cid, ctx.now(), state=TargetState.RETRYING, next_at=None,
            reason="requeued", from_states=(TargetState.UNKNOWN,)) is not None
    return moved


def group_counts(counts: dict[str, int]) -> dict[str, int]:
    grouped = {name: sum(counts.get(s.value, 0) for s in states)
               for name, states in STATUS_GROUPS.items()}
    grouped["total"] = sum(counts.values())
    return grouped


async def status(ctx: CampaignContext, campaign_id: str) -> dict[str, Any]:
    campaign = await get(ctx, campaign_id)
    counts = group_counts(await ctx.store.state_counts(campaign_id))
    return {**campaign_view(campaign), "counts": counts}


def campaign_view(c: Campaign) -> dict[str, Any]:
    def t(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"id": c.id, "name": c.name, "purpose": c.purpose.value, "state": c.state.value,
            "rules": [r.to_json() for r in c.rules], "policy": c.policy.to_json(),
            "created_at": t(c.created_at), "started_at": t(c.started_at),
            "finished_at": t(c.finished_at), "ends_at": t(c.ends_at)}
