"""The Asterisk adapter's settings from the ``[asterisk]`` config section (read by
``ivr.config``): the AudioSocket peers default to the addresses of the ARI host."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from ivr.config import AsteriskConfig
from ivr.telephony.asterisk.control import AsteriskSettings


async def ari_host_addresses(ari_url: str) -> tuple[str, ...]:
    host = urlsplit(ari_url).hostname or "127.0.0.1"
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return tuple(sorted({str(info[4][0]) for info in infos}))


async def settings_from_config(cfg: AsteriskConfig) -> AsteriskSettings:
    peers = tuple(p.strip() for p in cfg.audiosocket_peers.split(",") if p.strip())
    if not peers:
        peers = await ari_host_addresses(cfg.ari_url)
    return AsteriskSettings(
        ari_url=cfg.ari_url, ari_user=cfg.ari_user, ari_password=cfg.ari_password,
        app=cfg.app, audiosocket_host=cfg.audiosocket_host,
        audiosocket_port=cfg.audiosocket_port, advertise=cfg.audiosocket_advertise,
        peers=peers, dtmf_from=cfg.dtmf_from, outbound_endpoint=cfg.outbound_endpoint,
        caller_id=cfg.caller_id, ring_timeout_s=cfg.ring_timeout_s,
        transfer_context=cfg.transfer_context, request_timeout_s=cfg.request_timeout_s)
