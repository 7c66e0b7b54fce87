"""The ``ivr`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from ivr.config import Config
from ivr.core.errors import IvrError


def _config(args: argparse.Namespace, *, generate_secrets: bool = False) -> Config:
    from ivr.config import load_config

    return load_config(Path(args.config) if args.config else None,
                       generate_secrets=generate_secrets)


def cmd_serve(args: argparse.Namespace) -> int:
    from ivr.serve import serve

    serve(_config(args, generate_secrets=True), args.config)
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from ivr.sim.cli import run_call

    return asyncio.run(run_call(args, _config(args)))


def cmd_softphone(args: argparse.Namespace) -> int:
    from ivr.sim.softphone import run_softphone
    from ivr.sim.soundio import list_devices

    if args.list_devices:  # needs no configuration
        print(list_devices())
        return 0
    return asyncio.run(run_softphone(args, _config(args)))


def cmd_bench(args: argparse.Namespace) -> int:
    from ivr.bench import run_bench

    return asyncio.run(run_bench(args, _config(args)))


def cmd_test_dialogues(args: argparse.Namespace) -> int:
    from ivr.sim.cli import options_from_config
    from ivr.sim.dialogues import load_all, run_dialogues, table

    config = _config(args)
    scripts = load_all([Path(p) for p in (args.paths or ["audio/fixtures"])])
    if not scripts:
        print("no script.yaml found", file=sys.stderr)
        return 2
    outcomes = asyncio.run(
        run_dialogues(scripts, options_from_config(config, args.url), args.concurrency)
    )
    print(table(outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


def cmd_setup(args: argparse.Namespace) -> int:
    from ivr.setup_tasks import run_setup

    return run_setup(_config(args, generate_secrets=True), models=not args.skip_models,
                     train=not args.skip_train, prompts=not args.skip_prompts, force=args.force)


def cmd_doctor(args: argparse.Namespace) -> int:
    from ivr.doctor import Status, render, run_doctor

    try:
        config = _config(args, generate_secrets=True)
    except IvrError as exc:
        print(f"FAIL  settings: {exc}\n      fix: correct the setting named above (README, "
              "Configuration), then run ivr doctor again")
        return 1
    findings = run_doctor(config)
    print(render(findings))
    return 1 if any(f.status is Status.FAIL for f in findings) else 0


def cmd_fixtures(args: argparse.Namespace) -> int:
    from ivr.sim.fixtures import synthesize_all

    count = synthesize_all(Path(args.path), force=args.force)
    print(json.dumps({"rendered": count}))
    return 0


def register_plugins(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ivr.agents.cli import register as register_agents
    from ivr.campaigns.cli import register as register_campaigns
    from ivr.customers.cli import register as register_customers

    register_customers(sub)
    register_agents(sub)
    register_campaigns(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivr", description="Voice IVR bot with agent handoff")
    parser.add_argument("--config", help="TOML config file (default: $IVR_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the IVR with its Rasa and action servers").set_defaults(
        func=cmd_serve)

    call = sub.add_parser("call", help="place a simulated Twilio call against a running server")
    call.add_argument("--url", help="server base URL (default: server.public_url)")
    call.add_argument("--script", help="caller script YAML (see audio/fixtures)")
    call.add_argument("--say", nargs="*", default=[], help="WAV files, one per caller turn")
    call.add_argument("--lang", default="zh")
    call.add_argument("--record", help="write the call audio (stereo caller/bot) to this WAV")
    call.add_argument("--json", action="store_true", help="print the result as JSON")
    call.set_defaults(func=cmd_call)

    phone = sub.add_parser("softphone", help="talk to the bot with a microphone and speakers")
    phone.add_argument("--list-devices", action="store_true", help="list sound devices, exit")
    phone.add_argument("--input", help="microphone: device index or name (default: system's)")
    phone.add_argument("--output", help="speaker: device index or name (default: system's)")
    phone.add_argument("--url", help="server base URL (default: server.public_url)")
    phone.add_argument("--lang", default="zh")
    phone.add_argument("--customer-id")
    phone.add_argument("--customer-title", help="how the bot addresses you, e.g. 张先生")
    phone.add_argument("--record", metavar="DIR", help="save your turns as a fixture in DIR")
    phone.set_defaults(func=cmd_softphone)

    bench = sub.add_parser("bench", help="concurrent simulated calls (or --tts); writes a "
                                         "results file")
    bench.add_argument("--calls", type=int, default=10)
    bench.add_argument("--rounds", type=int, default=1)
    bench.add_argument("--warmup", type=int, default=1,
                       help="calls placed one by one before measuring (default 1)")
    bench.add_argument("--url", help="server base URL (default: server.public_url)")
    bench.add_argument("--serve", action="store_true",
                       help="start a private `ivr serve` for the benchmark and stop it after")
    bench.add_argument("--provider", default="twilio", choices=["twilio"],
                       help="which provider the simulated phone speaks")
    bench.add_argument("--script", help="caller script (default: the zh happy-path fixture)")
    bench.add_argument("--tts", action="store_true",
                       help="measure the speech synthesizer instead of calls")
    bench.add_argument("--out", default="bench-results/bench.json")
    bench.set_defaults(func=cmd_bench)

    dialogues = sub.add_parser("test-dialogues",
                               help="run fixture scripts against a running server")
    dialogues.add_argument("paths", nargs="*", help="script files or folders (audio/fixtures)")
    dialogues.add_argument("--url", help="server base URL (default: server.public_url)")
    dialogues.add_argument("--concurrency", type=int, default=10)
    dialogues.set_defaults(func=cmd_test_dialogues)

    setup = sub.add_parser("setup", help="models, Rasa training and prompt rendering")
    setup.add_argument("--skip-models", action="store_true")
    setup.add_argument("--skip-train", action="store_true")
    setup.add_argument("--skip-prompts", action="store_true")
    setup.add_argument("--force", action="store_true", help="redo steps even if up to date")
    setup.set_defaults(func=cmd_setup)

    sub.add_parser("doctor", help="check this machine and the settings; say what to fix"
                   ).set_defaults(func=cmd_doctor)

    register_plugins(sub)

    fixtures = sub.add_parser("fixtures", help="synthesize caller WAVs for fixture scripts")
    fixtures.add_argument("path", nargs="?", default="audio/fixtures")
    fixtures.add_argument("--force", action="store_true")
    fixtures.set_defaults(func=cmd_fixtures)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except IvrError as exc:
        print(f"ivr: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a file or port the command needs: the message names it
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"ivr: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
