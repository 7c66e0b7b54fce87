"""Async ARI REST client: the handful of documented operations the adapter uses.

Resources (Asterisk ``rest-api/api-docs``): ``POST /channels/{id}/answer``, ``DELETE
/channels/{id}`` (hang up), ``POST /channels/{id}/continue`` (leave Stasis into the dialplan),
``POST /channels/{id}`` (originate with our id; ``variables`` in the JSON body),
``POST /channels/externalMedia`` (AudioSocket over TCP, ``data`` = the stream UUID),
``POST /bridges/{id}`` (create), ``POST /bridges/{id}/addChannel``, ``DELETE /bridges/{id}``.
HTTP basic auth with the ``ari.conf`` user. Failures raise ``ProviderHttpError``; a 404 on a
hang-up or bridge removal means it is already gone (not an error)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from ivr.telephony.base import ProviderHttpError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AriCredentials:
    user: str
    password: str = field(repr=False)

    def header(self) -> str:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"


def _q(value: str) -> str:
    return quote(value, safe="")


class AriClient:
    """``base_url`` is ARI's root, e.g. ``http://pbx:8088/ari``."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str,
                 credentials: AriCredentials, *, timeout_s: float = 5.0) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": credentials.header(), "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def __repr__(self) -> str:  # never show credentials
        return f"AriClient(base_url={self._base!r})"

    async def answer(self, channel_id: str) -> None:
        await self._call("POST", f"/channels/{_q(channel_id)}/answer", what="answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._call("DELETE", f"/channels/{_q(channel_id)}", {"reason": reason},
                         what="hangup", missing_ok=True)

    async def continue_in_dialplan(self, channel_id: str, *, context: str = "",
                                   extension: str = "", priority: int | None = None) -> None:
        params = {"context": context, "extension": extension}
        if priority is not None:
            params["priority"] = str(priority)
        await self._call("POST", f"/channels/{_q(channel_id)}/continue",
                         {k: v for k, v in params.items() if v}, what="continue")

    async def originate(self, channel_id: str, endpoint: str, *, app: str, app_args: str = "",
                        caller_id: str = "", timeout_s: int = 30,
                        variables: Mapping[str, str] | None = None) -> dict[str, Any]:
        params = {"endpoint": endpoint, "app": app, "appArgs": app_args, "callerId": caller_id,
                  "timeout": str(timeout_s)}
        return await self._call("POST", f"/channels/{_q(channel_id)}",
                                 {k: v for k, v in params.items() if v},
                                 body={"variables": dict(variables or {})}, what="originate")

    async def external_media(self, channel_id: str, *, app: str, external_host: str,
                             stream_id: str) -> dict[str, Any]:
        """An AudioSocket channel: Asterisk connects to ``external_host`` over TCP and sends
        ``stream_id`` (a UUID) first, then signed-linear 8 kHz audio both ways."""
        params = {"channelId": channel_id, "app": app, "external_host": external_host,
                  "encapsulation": "audiosocket", "transport": "tcp", "format": "slin",
                  "data": stream_id}
        return await self._call("POST", "/channels/externalMedia", params, what="externalMedia")

    async def create_bridge(self, bridge_id: str) -> None:
        await self._call("POST", f"/bridges/{_q(bridge_id)}", {"type": "mixing"},
                         what="create bridge")

    async def add_to_bridge(self, bridge_id: str, *channel_ids: str) -> None:
        await self._call("POST", f"/bridges/{_q(bridge_id)}/addChannel",
                         {"channel": ",".join(channel_ids)}, what="addChannel")

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._call("DELETE", f"/bridges/{_q(bridge_id)}", what="destroy bridge",
                         missing_ok=True)

    async def _call(self, method: str, path: str, params: Mapping[str, str] | None = None, *,
                    body: Mapping[str, Any] | None = None, what: str,
                    missing_ok: bool = False) -> dict[str, Any]:
        url = self._base + path
        try:
            async with self._session.request(
                method, url, params=dict(params or {}), json=body, headers=self._headers,
                timeout=self._timeout,
            ) as resp:
                text = await resp.text()
                if resp.status == 404 and missing_ok:
                    return {}
                if resp.status >= 300:
                    raise ProviderHttpError(
                        f"ARI {what}: HTTP {resp.status} {_message(text)}",
                        http_status=resp.status,
                    )
                if not text.strip():
                    return {}
                data = json.loads(text)
                return data if isinstance(data, dict) else {}
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderHttpError(f"ARI {what}: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:
            raise ProviderHttpError(f"ARI {what}: answer is not JSON") from exc


def _message(text: str) -> str:
    """ARI errors are ``{"message": "..."}``; keep it short either way."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:200]
    message = data.get("message") if isinstance(data, dict) else None
    if isinstance(message, str):
        return message[:200]
    return text.strip()[:200]
