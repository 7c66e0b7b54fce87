"""``ivr cluster run|status`` (call :func:`register` from the ``ivr`` command)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.config import Config


def _config(args: argparse.Namespace) -> Config:
    from ivr.config import load_config

    return load_config(Path(args.config) if getattr(args, "config", None) else None)


def cmd_run(args: argparse.Namespace) -> int:
    from ivr.cluster.run import run_cluster

    return run_cluster(_config(args), getattr(args, "config", None), args.workers,
                       args.base_port)


def cmd_status(args: argparse.Namespace) -> int:
    from ivr.cluster.run import print_status

    return asyncio.run(print_status(_config(args)))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cluster = subparsers.add_parser(
        "cluster", help="several workers on PostgreSQL and Redis (one machine, or status)")
    sub = cluster.add_subparsers(dest="cluster_command", required=True)
    run = sub.add_parser("run", help="start PostgreSQL, Redis and N workers here")
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--base-port", type=int, default=8080,
                     help="worker n listens on base-port + n - 1")
    run.set_defaults(func=cmd_run)
    status = sub.add_parser("status", help="live workers and their free capacity (Redis)")
    status.set_defaults(func=cmd_status)
