"""Which telephony path a simulated call takes: Twilio's (webhook + Media Streams) or Asterisk's
(the emulator's ARI + AudioSocket). ``ivr call``, ``ivr test-dialogues`` and ``ivr bench`` take
``--provider``; for Asterisk the emulator listens where ``asterisk.ari_url`` points, and the
running IVR (configured with ``asterisk.enabled``) connects to it as it would to a PBX."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol
from urllib.parse import urlsplit

from ivr.config import Config
from ivr.sim.asterisk import AsteriskEmulator
from ivr.sim.asterisk_phone import AsteriskPhone
from ivr.sim.line import SimResult
from ivr.sim.phone import PhoneSimulator, SimOptions
from ivr.sim.script import CallScript

PROVIDERS = ("twilio", "asterisk")
SUBSCRIBE_TIMEOUT_S = 30.0  # the IVR's ARI reconnect back-off is at most 10 s


class Phone(Protocol):
    async def call(self, script: CallScript, *, record: bool = True,
                   before_turn: Callable[[int], Awaitable[None]] | None = None) -> SimResult: ...


@contextlib.asynccontextmanager
async def emulator_for(config: Config) -> AsyncIterator[AsteriskEmulator]:
    """An Asterisk emulator at ``asterisk.ari_url`` once the IVR's event socket is on it."""
    ast = config.asterisk
    url = urlsplit(ast.ari_url)
    emu = AsteriskEmulator(user=ast.ari_user, password=ast.ari_password, app=ast.app)
    await emu.start(url.hostname or "127.0.0.1", url.port or 8088)
    try:
        await emu.wait_subscribed(SUBSCRIBE_TIMEOUT_S)
        yield emu
    finally:
        await emu.close()


@contextlib.asynccontextmanager
async def phone_for(provider: str, options: SimOptions, config: Config) -> AsyncIterator[Phone]:
    if provider == "twilio":
        yield PhoneSimulator(options)
    elif provider == "asterisk":
        async with emulator_for(config) as emu:
            yield AsteriskPhone(options, emu)
    else:
        raise ValueError(f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})")
