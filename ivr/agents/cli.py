"""``ivr agents add|list|set-presence`` (call :func:`register` from the ``ivr`` command)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys

from ivr.agents.accounts import AgentDirectory
from ivr.agents.model import Agent, Presence, Role
from ivr.cli_stores import DB_HELP, store_target
from ivr.core.errors import StoreError
from ivr.core.pii import mask_phone
from ivr.store.agents import SqliteAgentStore
from ivr.store.factory import StoreTarget, open_store
from ivr.telephony.base import TransferKind, TransferTarget


def _db_path(args: argparse.Namespace) -> StoreTarget:
    return store_target(args)


def agent_row(agent: Agent) -> dict[str, object]:
    return {"id": agent.id, "username": agent.username, "display_name": agent.display_name,
            "role": agent.role.value, "languages": [lang.value for lang in agent.languages],
            "presence": agent.presence.value, "transfer_kind": agent.transfer_kind.value,
            "transfer_address": mask_phone(agent.transfer_address)}


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the passwords differ")
    return first


def cmd_add(args: argparse.Namespace) -> int:
    try:
        target = TransferTarget(TransferKind(args.transfer_kind), args.transfer_address)
        password = _password(args)
    except ValueError as err:
        print(f"ivr agents add: {err}", file=sys.stderr)
        return 2
    path = _db_path(args)

    async def run() -> int:
        async with await open_store(SqliteAgentStore, path) as store:
            try:
                agent = await AgentDirectory(store).add(
                    args.username, password, display_name=args.display_name or args.username,
                    target=target, languages=args.languages.split(","), role=args.role)
            except (ValueError, StoreError) as err:
                print(f"ivr agents add: {err}", file=sys.stderr)
                return 2
        print(json.dumps(agent_row(agent), ensure_ascii=False))
        return 0

    return asyncio.run(run())


def cmd_list(args: argparse.Namespace) -> int:
    path = _db_path(args)

    async def run() -> int:
        async with await open_store(SqliteAgentStore, path) as store:
            for agent in await AgentDirectory(store).list():
                print(json.dumps(agent_row(agent), ensure_ascii=False))
        return 0

    return asyncio.run(run())


def cmd_set_presence(args: argparse.Namespace) -> int:
    path = _db_path(args)

    async def run() -> int:
        async with await open_store(SqliteAgentStore, path) as store:
            directory = AgentDirectory(store)
            agent = await directory.by_username(args.username)
            if agent is None:
                print(f"ivr agents set-presence: no agent {args.username!r}", file=sys.stderr)
                return 1
            updated = await directory.set_presence(agent.id, args.presence)
        if updated is not None:
            print(json.dumps(agent_row(updated), ensure_ascii=False))
        return 0

    return asyncio.run(run())


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help=DB_HELP)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``agents`` to the ``ivr`` command's subparsers."""
    agents = subparsers.add_parser("agents", help="human agents who take escalated calls")
    sub = agents.add_subparsers(dest="agents_command", required=True)

    add = sub.add_parser("add", help="create an agent account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--display-name")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.AGENT.value)
    add.add_argument("--languages", default="zh", help="comma-separated, e.g. zh,en")
    add.add_argument("--transfer-kind", choices=[k.value for k in TransferKind],
                     default=TransferKind.PHONE.value)
    add.add_argument("--transfer-address", required=True,
                     help="E.164 number, sip: URI or client identity the call is sent to")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    _db_option(add)
    add.set_defaults(func=cmd_add)

    lst = sub.add_parser("list", help="agents, one JSON line each")
    _db_option(lst)
    lst.set_defaults(func=cmd_list)

    presence = sub.add_parser("set-presence", help="mark an agent available, busy or away")
    presence.add_argument("username")
    presence.add_argument("presence", choices=[p.value for p in Presence])
    _db_option(presence)
    presence.set_defaults(func=cmd_set_presence)
