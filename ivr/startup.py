"""Start-up steps of ``ivr serve`` around the application: ports checked before anything slow
starts, demo customers for local mode, and the ready banner once every part is up."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ivr.banner import Launch, ready_lines
from ivr.config import ROOT, Config
from ivr.core.errors import ConfigError
from ivr.customers.idhash import IdHasher
from ivr.web.services import Readiness

if TYPE_CHECKING:
    from ivr.store.factory import StoreTarget

DEMO_CUSTOMERS = ROOT / "audio" / "fixtures" / "customers.json"


@dataclass(frozen=True, slots=True)
class PortUse:
    setting: str
    env: str
    host: str
    port: int


def ports_needed(config: Config) -> list[PortUse]:
    ports = [PortUse("server.port", "IVR_SERVER_PORT", config.server.host, config.server.port)]
    if config.rasa.managed:
        for base in config.rasa.server_urls():  # rasa.servers processes from url's port up
            rasa = urlsplit(base)
            ports.append(PortUse("rasa.url", "IVR_RASA_URL", rasa.hostname or "127.0.0.1",
                                 rasa.port or 5005))
        ports.append(PortUse("rasa.actions_port", "IVR_RASA_ACTIONS_PORT", "127.0.0.1",
                             config.rasa.actions_port))
    return ports


def port_in_use_message(use: PortUse) -> str:
    example = {"server.port": f"IVR_SERVER_PORT={use.port + 1}",
               "rasa.url": f"IVR_RASA_URL=http://127.0.0.1:{use.port + 1}",
               "rasa.actions_port": f"IVR_RASA_ACTIONS_PORT={use.port + 1}"}[use.setting]
    return (f"port {use.port} on {use.host} (setting {use.setting}) is already in use: stop the "
            f"program listening there (`ss -ltnp 'sport = :{use.port}'` shows it) or choose "
            f"another port, e.g. `{example} make run`")


def _bind_error(use: PortUse) -> OSError | None:
    family = socket.AF_INET6 if ":" in use.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((use.host, use.port))
        except OSError as exc:
            return exc
    return None


def busy_ports(config: Config) -> list[tuple[PortUse, OSError]]:
    """The ports ``ivr serve`` needs that cannot be bound now, with the reason."""
    return [(use, err) for use in ports_needed(config) if (err := _bind_error(use)) is not None]


def check_ports(config: Config) -> None:
    """Refuse to start (``ConfigError`` naming the setting) if a port is taken or unusable."""
    for use, exc in busy_ports(config):
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(port_in_use_message(use)) from exc
        raise ConfigError(f"cannot listen on {use.host}:{use.port} (setting {use.setting}): "
                          f"{exc.strerror}") from exc


async def seed_demo_customers(where: Path | StoreTarget, hasher: IdHasher,
                              source: Path = DEMO_CUSTOMERS) -> int:
    """Import the bundled demo customers into an empty customer store; 0 if it has some.
    ``where``: a SQLite file or the configured store (SQLite or PostgreSQL); ``hasher``: the
    server's (ID digits are stored only as its keyed hash)."""
    from ivr.customers.importer import import_customers
    from ivr.store.customers import SqlCustomerStore
    from ivr.store.factory import StoreTarget, open_store

    target = where if isinstance(where, StoreTarget) else StoreTarget.parse(where)
    async with await open_store(SqlCustomerStore, target) as store:
        if await store.list_customers(limit=1):
            return 0
        report = await import_customers(source, store, hasher)
    return report.created


async def announce_when_ready(readiness: Readiness, config: Config, launch: Launch,
                              say: Callable[[str], None], *, clock: Callable[[], float]
                              = time.monotonic, poll_s: float = 0.5,
                              remind_s: float = 15.0) -> None:
    """Say which parts are still starting now and then; print the banner once all are up."""
    started = last = clock()
    shown = ""
    while True:
        ready, _why = readiness.ready()
        parts = readiness.parts()
        if ready:
            for line in ready_lines(config, launch, parts, clock() - started):
                say(line)
            return
        waiting = ", ".join(f"{n} {s}" for n, s in parts.items() if s != "up")
        now = clock()
        if waiting != shown or now - last >= remind_s:
            say(f"ivr: starting ({now - started:.0f} s): waiting for {waiting}"
                + (" — Rasa loads TensorFlow and its model, 20-60 s" if "rasa" in waiting
                   else ""))
            shown, last = waiting, now
        await asyncio.sleep(poll_s)
