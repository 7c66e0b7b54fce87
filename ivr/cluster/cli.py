"""``ivr cluster run|status`` (call :func:`register` from the ``ivr`` command)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.config import Config


def _config(args: argparse.Namespace) -> Config:
    from ivr.config import load_config

    # the installation's secrets, generated on first use: every worker is given the same
    return load_config(Path(args.config) if getattr(args, "config", None) else None,
                       generate_secrets=True)


def cmd_run(args: argparse.Namespace) -> int:
    from ivr.cluster.run import run_cluster

    return run_cluster(_config(args), getattr(args, "config", None), args.workers,
                       args.base_port)


def cmd_status(args: argparse.Namespace) -> int:
    from ivr.cluster.run import print_status

    return asyncio.run(print_status(_config(args)))


def cmd_bench(args: argparse.Namespace) -> int:
    from ivr.cluster.bench import bench_scale
    from ivr.cluster.launch import Topology
    from ivr.sim.script import load_script

    topologies = []
    for name in args.topologies.split(","):
        workers, _, store = name.partition("x-")
        topologies.append(Topology(int(workers), store))
    script = load_script(Path(args.script))
    levels = [int(n) for n in args.levels.split(",")]
    out = Path(args.out)
    earlier = (json.loads(out.read_text("utf-8")).get("topologies", [])
               if args.keep and out.exists() else None)
    report = asyncio.run(bench_scale(_config(args), getattr(args, "config", None), topologies,
                                     levels, script, out, earlier))
    for topo in report["topologies"]:
        print(f"{topo['topology']}: {topo['held_calls_total']} calls held at p95 <= 800 ms "
              f"({topo['held_calls_per_worker']:g} per worker); at the limit: "
              f"{topo['at_the_limit']}")
    print(f"scaling ratio (2 workers / 1 worker, PostgreSQL): "
          f"{report['scaling_ratio_2_over_1']}")
    return 0


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
    bench = sub.add_parser("bench", help="calls held at p95 <= 800 ms: 1 and 2 workers, "
                                         "SQLite and PostgreSQL (starts each topology here)")
    bench.add_argument("--topologies", default="1x-sqlite,1x-postgresql,2x-postgresql")
    bench.add_argument("--levels", default="4,8,12,16,20,24",
                       help="concurrent calls to try, in order, until one misses the target")
    bench.add_argument("--script", default=str(Path(__file__).resolve().parents[2] / "audio"
                                              / "fixtures" / "zh" / "happy_path"
                                              / "script.yaml"))
    bench.add_argument("--out", default="bench-results/scale.json")
    bench.add_argument("--keep", action="store_true",
                       help="keep the other topologies already in --out (run one at a time)")
    bench.set_defaults(func=cmd_bench)
