"""``ivr customers import|generate|list`` and ``ivr followups`` (call :func:`register`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from ivr.customers.idhash import IdHasher
from ivr.customers.importer import ImportFileError, import_customers
from ivr.customers.model import FollowUpStatus
from ivr.customers.service import CustomerService
from ivr.customers.views import customer_row, followup_to_dict
from ivr.store.customers import SqliteCustomerStore


def _db_path(args: argparse.Namespace) -> Path:
    if getattr(args, "db", None):
        return Path(args.db)
    from ivr.config import load_config

    config_file = getattr(args, "config", None)
    return load_config(Path(config_file) if config_file else None).store.sqlite_path


def _prepared_db(args: argparse.Namespace) -> Path:
    path = _db_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _hasher(args: argparse.Namespace) -> IdHasher:
    """The same server key ``ivr serve`` uses (``server.secret_key`` or its key file)."""
    from ivr.config import load_config
    from ivr.server_key import server_key

    config_file = getattr(args, "config", None)
    return IdHasher(server_key(load_config(Path(config_file) if config_file else None,
                                           check=False)))


def cmd_import(args: argparse.Namespace) -> int:
    path = _prepared_db(args)
    hasher = _hasher(args)

    async def run() -> int:
        async with await SqliteCustomerStore.open(path) as store:
            await CustomerService(store).protect_ids(hasher)
            try:
                report = await import_customers(Path(args.file), store, hasher)
            except ImportFileError as err:
                print(f"ivr customers import: {err}", file=sys.stderr)
                return 2
        for failure in report.failures:
            print(f"{args.file}:{failure}", file=sys.stderr)
        print(f"ivr customers import: {report.summary()}")
        return 1 if report.failures else 0

    return asyncio.run(run())


def cmd_generate(args: argparse.Namespace) -> int:
    from ivr.customers.generate import generate_customers

    now = args.now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    text = json.dumps(generate_customers(args.count, now, args.seed), ensure_ascii=False,
                      indent=2) + "\n"
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"ivr customers generate: wrote {args.count} customers to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    path = _prepared_db(args)

    async def run() -> int:
        async with await SqliteCustomerStore.open(path) as store:
            customers = await store.list_customers(limit=args.limit, offset=args.offset)
        for customer in customers:
            print(json.dumps(customer_row(customer), ensure_ascii=False))
        return 0

    return asyncio.run(run())


def cmd_followups(args: argparse.Namespace) -> int:
    status = None if args.status == "all" else FollowUpStatus(args.status)
    path = _prepared_db(args)

    async def run() -> int:
        async with await SqliteCustomerStore.open(path) as store:
            tasks = await store.list_followups(status=status, limit=args.limit)
        for task in tasks:
            print(json.dumps(followup_to_dict(task), ensure_ascii=False))
        return 0

    return asyncio.run(run())


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an ISO-8601 date-time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="SQLite file (default: store.sqlite_path from the config)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``customers`` and ``followups`` to the ``ivr`` command's subparsers."""
    customers = subparsers.add_parser("customers", help="customer records (import, demo set)")
    sub = customers.add_subparsers(dest="customers_command", required=True)

    imp = sub.add_parser("import", help="load customers from CSV or JSON (upsert by id)")
    imp.add_argument("file", help="a .csv or .json file")
    _db_option(imp)
    imp.set_defaults(func=cmd_import)

    gen = sub.add_parser("generate", help="write a deterministic demo set as JSON")
    gen.add_argument("--count", type=_positive, default=50)
    gen.add_argument("--out", help="output file (default: standard output)")
    gen.add_argument("--seed", type=int, default=20240501)
    gen.add_argument("--now", type=_time,
                     help="ISO time the demo is relative to (default: today 00:00Z)")
    gen.set_defaults(func=cmd_generate)

    lst = sub.add_parser("list", help="customers, one JSON line each (phones masked)")
    lst.add_argument("--limit", type=_positive, default=100)
    lst.add_argument("--offset", type=int, default=0)
    _db_option(lst)
    lst.set_defaults(func=cmd_list)

    followups = subparsers.add_parser("followups", help="follow-up tasks from calls")
    followups.add_argument("--status", choices=("open", "done", "all"), default="all")
    followups.add_argument("--limit", type=_positive, default=200)
    _db_option(followups)
    followups.set_defaults(func=cmd_followups)
