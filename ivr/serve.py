"""``ivr serve``: check the ports, say what runs in local mode, serve until Ctrl-C / SIGTERM,
and print the first-call banner once every part is up."""

from __future__ import annotations

import asyncio
import os
import signal

from ivr.banner import Launch, launch_from, local_mode, setup_lines
from ivr.config import ROOT, Config
from ivr.customers.idhash import IdHasher
from ivr.loop_watch import freeze_startup_heap
from ivr.server_key import server_key
from ivr.startup import DEMO_CUSTOMERS, announce_when_ready, check_ports, seed_demo_customers
from ivr.store.factory import StoreTarget


def serve(config: Config, config_file: str | None) -> None:
    from ivr.app import configure_logging

    configure_logging(config)
    check_ports(config)
    for line in setup_lines(config):
        print(f"ivr: {line}", flush=True)
    if local_mode(config):
        target = StoreTarget.from_settings(config.store.url, config.store.sqlite_path,
                                           config.store.pool_size)
        added = asyncio.run(seed_demo_customers(target, IdHasher(server_key(config))))
        if added:
            print(f"ivr: local mode: imported {added} demo customers from "
                  f"{DEMO_CUSTOMERS.relative_to(ROOT)} into the empty store "
                  f"{target.describe()}", flush=True)
    asyncio.run(_serve(config, launch_from(config_file, os.environ)))


async def _serve(config: Config, launch: Launch) -> None:
    """Serve until SIGINT/SIGTERM, then shut down once: repeated signals (a process manager
    signalling the whole group, an impatient Ctrl-C) must not cut the clean-up short, or
    children and databases would be left open."""
    from aiohttp import web

    from ivr.app import build_app
    from ivr.web.keys import SERVICES

    runner = web.AppRunner(build_app(config), handle_signals=False, shutdown_timeout=10)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    announce: asyncio.Task[None] | None = None
    try:
        host, port = config.server.host, config.server.port
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError:
            check_ports(config)  # names the setting when the port was taken meanwhile
            raise
        parts = "starting Rasa and the action server" if config.rasa.managed else \
            f"using the Rasa server at {config.rasa.url}"
        print(f"ivr: listening on http://{host}:{port}; {parts}", flush=True)
        freeze_startup_heap()  # the process serves from here on: start-up's heap stays put
        readiness = runner.app[SERVICES].readiness
        announce = asyncio.create_task(announce_when_ready(
            readiness, config, launch, lambda line: print(line, flush=True)))
        await stop.wait()
        print("ivr: stopping (ending calls, stopping Rasa)", flush=True)
    finally:
        if announce is not None:
            announce.cancel()
        await runner.cleanup()
