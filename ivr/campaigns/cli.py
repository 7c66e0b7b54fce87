"""``ivr campaign create|import|start|pause|resume|status|report|dnc|requeue|list``
(call :func:`register`).

These commands work on the database (``store.sqlite_path`` or ``--db``). Dialling is done by
the running ``ivr serve``: ``start`` marks a campaign running and its dialer picks it up.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ivr.campaigns import admin
from ivr.campaigns.context import CampaignContext, DialerSettings, NoDialing
from ivr.campaigns.model import CampaignState, Purpose
from ivr.campaigns.policy import PolicyError
from ivr.campaigns.progress import Bar
from ivr.campaigns.report import collect, write_report
from ivr.campaigns.rules import RuleError, parse_rule_text
from ivr.campaigns.settings import CampaignsConfig
from ivr.core.errors import IvrError
from ivr.store.campaigns import SqliteCampaignStore
from ivr.store.customers import SqliteCustomerStore
from ivr.store.sqlite import SqliteCallStore

STATUS_ORDER = ("queued", "dialing", "in_progress", "retrying", "completed", "fallback",
                "failed", "skipped", "unknown", "total")


def _settings(args: argparse.Namespace) -> tuple[Path, CampaignsConfig]:
    from ivr.config import load_config

    config_file = getattr(args, "config", None)
    if getattr(args, "db", None):
        try:
            config = load_config(Path(config_file) if config_file else None)
            campaigns = getattr(config, "campaigns", CampaignsConfig())
        except IvrError:  # a --db run needs no valid server config
            campaigns = CampaignsConfig()
        return Path(args.db), campaigns
    config = load_config(Path(config_file) if config_file else None)
    return config.store.sqlite_path, getattr(config, "campaigns", CampaignsConfig())


@asynccontextmanager
async def _context(args: argparse.Namespace) -> AsyncIterator[CampaignContext]:
    path, settings = _settings(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    async with (await SqliteCampaignStore.open(path) as store,
                await SqliteCustomerStore.open(path) as customers,
                await SqliteCallStore.open(path) as calls):
        yield CampaignContext(store=store, customers=customers, calls=calls,
                              control=NoDialing(),
                              settings=DialerSettings(caller_id=""),
                              defaults=settings.default_policy())


def _run(args: argparse.Namespace,
         body: Callable[[CampaignContext], Awaitable[int]]) -> int:
    async def main() -> int:
        async with _context(args) as ctx:
            try:
                return await body(ctx)
            except (admin.CampaignError, PolicyError, RuleError) as err:
                print(f"ivr campaign {args.campaign_command}: {err}", file=sys.stderr)
                return 2

    return asyncio.run(main())


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _policy_args(args: argparse.Namespace) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(args.policy_json) if args.policy_json else {}
    if not isinstance(policy, dict):
        raise PolicyError("--policy-json must be a JSON object")
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise PolicyError(f"--set {item!r} is not key=value")
        try:
            policy[key] = json.loads(value)
        except json.JSONDecodeError:
            policy[key] = value
    return policy


def cmd_create(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        rules = [parse_rule_text(text) for text in args.rule or []]
        campaign = await admin.create(
            ctx, args.name, purpose=Purpose(args.purpose), rules=rules,
            policy=_policy_args(args), campaign_id=args.id, ends_at=args.ends_at)
        _print(admin.campaign_view(campaign))
        return 0

    return _run(args, body)


def read_customer_ids(path: Path) -> list[str]:
    """A JSON list (of ids or of objects with ``customer_id``), a CSV with a ``customer_id``
    column, or plain text with one id per line."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        items = json.loads(text)
        if not isinstance(items, list):
            raise admin.CampaignError("invalid_field", f"{path}: expected a JSON list")
        return [str(i["customer_id"] if isinstance(i, dict) else i) for i in items]
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if "customer_id" not in (reader.fieldnames or []):
            raise admin.CampaignError("invalid_field", f"{path}: no customer_id column")
        return [row["customer_id"] for row in reader]
    return [line.strip() for line in text.splitlines() if line.strip()]


def cmd_import(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        ids = read_customer_ids(Path(args.file))
        with Bar("import", len(ids)) as bar:
            result = await admin.import_targets(ctx, args.campaign_id, ids, bar.update)
        for cid in result.unknown:
            print(f"{args.file}: unknown customer {cid}", file=sys.stderr)
        print(f"ivr campaign import: {result.added} added, {result.already} already "
              f"targets, {len(result.unknown)} unknown")
        return 1 if result.unknown else 0

    return _run(args, body)


def cmd_start(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        with Bar("selecting customers") as bar:
            campaign = await admin.start(ctx, args.campaign_id, bar.update)
        _print(await admin.status(ctx, campaign.id))
        return 0

    return _run(args, body)


def _mover(name: str) -> Callable[[argparse.Namespace], int]:
    action = {"pause": admin.pause, "resume": admin.resume}[name]

    def cmd(args: argparse.Namespace) -> int:
        async def body(ctx: CampaignContext) -> int:
            campaign = await action(ctx, args.campaign_id)
            print(f"campaign {campaign.id} is {campaign.state.value}")
            return 0

        return _run(args, body)

    return cmd


def status_line(status: dict[str, Any]) -> str:
    counts = status["counts"]
    return f"{status['id']} [{status['state']}] " + " ".join(
        f"{name.replace('_', '-')}={counts.get(name, 0)}" for name in STATUS_ORDER)


def cmd_status(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        while True:
            status = await admin.status(ctx, args.campaign_id)
            if args.json:
                _print(status)
            else:
                print(status_line(status), flush=True)
            if not args.watch or status["state"] in (CampaignState.DONE.value,):
                return 0
            await asyncio.sleep(args.watch)

    try:
        return _run(args, body)
    except KeyboardInterrupt:
        return 0


def cmd_report(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        campaign = await admin.get(ctx, args.campaign_id)
        attempts = await ctx.store.list_attempts(campaign.id)
        started = time.monotonic()
        with Bar("reading calls", len(attempts)) as bar:
            data = await collect(ctx, campaign.id, bar.update)
        out = Path(args.out)
        metrics = await asyncio.to_thread(write_report, data, out)
        summary = metrics.summary()
        print(f"ivr campaign report: wrote {out / 'report.html'} "
              f"({time.monotonic() - started:.1f} s)")
        _print(summary)
        return 0

    return _run(args, body)


def cmd_dnc(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        added = await admin.add_dnc(ctx, args.campaign_id, args.customer_ids, args.reason)
        print(f"ivr campaign dnc: {added} added")
        return 0

    return _run(args, body)


def cmd_requeue(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        moved = await admin.requeue_unknown(ctx, args.campaign_id, args.customer_ids)
        print(f"ivr campaign requeue: {moved} target(s) will be dialled again")
        return 0

    return _run(args, body)


def cmd_list(args: argparse.Namespace) -> int:
    async def body(ctx: CampaignContext) -> int:
        for campaign in await ctx.store.list_campaigns():
            print(status_line(await admin.status(ctx, campaign.id)))
        return 0

    return _run(args, body)


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an ISO-8601 date-time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``campaign`` to the ``ivr`` command's subparsers."""
    parser = subparsers.add_parser("campaign", help="outbound callback campaigns")
    sub = parser.add_subparsers(dest="campaign_command", required=True)

    def command(name: str, help_text: str, func: Callable[[argparse.Namespace], int],
                with_id: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        if with_id:
            p.add_argument("campaign_id")
        p.add_argument("--db", help="SQLite file (default: store.sqlite_path from the config)")
        p.set_defaults(func=func)
        return p

    create = command("create", "create a campaign (a draft until started)", cmd_create, False)
    create.add_argument("name")
    create.add_argument("--id", help="campaign id (default: generated)")
    create.add_argument("--purpose", choices=[p.value for p in Purpose], default="service")
    create.add_argument("--rule", action="append", metavar="KIND[:k=v,...]",
                        help="targeting rule: pre_review:days=7,within_days=14 | "
                             "large_inactive:min_amount=5000,days=14 | complaint")
    create.add_argument("--policy-json", help="policy overrides as a JSON object")
    create.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="one policy override, e.g. max_attempts=4 or "
                             "windows=18:30-21:00")
    create.add_argument("--ends-at", type=_time, help="rule campaigns stop adding then")

    imp = command("import", "add an explicit customer list (JSON, CSV or text)", cmd_import)
    imp.add_argument("file")
    command("start", "select targets by the rules and start dialling", cmd_start)
    command("pause", "stop starting new calls", _mover("pause"))
    command("resume", "start dialling again", _mover("resume"))
    status = command("status", "live counts per target state", cmd_status)
    status.add_argument("--watch", type=float, metavar="SECONDS", help="refresh until done")
    status.add_argument("--json", action="store_true")
    report = command("report", "HTML report with PNG charts and CSV", cmd_report)
    report.add_argument("--out", required=True, help="output folder")
    dnc = command("dnc", "never call these customers in this campaign ('*': any)", cmd_dnc)
    dnc.add_argument("customer_ids", nargs="+")
    dnc.add_argument("--reason", default="")
    requeue = command("requeue", "dial 'unknown' targets again (after checking the "
                      "provider's call log)", cmd_requeue)
    requeue.add_argument("customer_ids", nargs="*")
    command("list", "every campaign with its counts", cmd_list, False)
