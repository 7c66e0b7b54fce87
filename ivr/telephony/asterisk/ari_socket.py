"""The ARI event WebSocket (``/ari/events?app=…``): connect with the ARI user, hand every event
to the adapter in order, reconnect with back-off when Asterisk restarts or the link drops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp

from ivr.core.errors import WireError
from ivr.telephony.asterisk.ari_client import AriCredentials
from ivr.telephony.asterisk.ari_events import AriEvent, parse_event

log = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)


def events_url(ari_url: str, app: str) -> str:
    parts = urlsplit(ari_url.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path + "/events",
                       f"app={quote(app, safe='')}&subscribeAll=false", ""))


class AriEventStream:
    def __init__(self, session: aiohttp.ClientSession, ari_url: str, app: str,
                 credentials: AriCredentials,
                 on_event: Callable[[AriEvent], Awaitable[None]]) -> None:
        self._session = session
        self._url = events_url(ari_url, app)
        self._headers = {"Authorization": credentials.header()}
        self._on_event = on_event
        self.connected = asyncio.Event()
        self.malformed = 0
        self.connects = 0

    async def run(self) -> None:
        """Until cancelled."""
        attempt = 0
        while True:
            try:
                async with self._session.ws_connect(self._url, headers=self._headers,
                                                    heartbeat=30) as ws:
                    attempt = 0
                    self.connects += 1
                    self.connected.set()
                    log.info("ARI events connected (%s)", self._url.split("?")[0])
                    async for msg in ws:
                        if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                            await self._deliver(msg.data)
                        elif msg.type is aiohttp.WSMsgType.ERROR:
                            break
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("ARI events: %s", exc)
            self.connected.clear()
            delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            attempt += 1
            await asyncio.sleep(delay)

    async def _deliver(self, raw: str | bytes) -> None:
        try:
            event = parse_event(raw)
        except WireError as exc:
            self.malformed += 1
            log.warning("ARI events: %s", exc)
            return
        try:
            await self._on_event(event)
        except Exception:  # one bad event must not stop the stream for every call
            log.exception("ARI events: handling %s failed", type(event).__name__)
