"""The bridge to Rasa's REST channel: one shared client session, sender = call id, timeouts.

With several Rasa server processes a call always talks to the same one, chosen from its call id
(a stable hash): its conversation lives there.

Caller text passes through the one normaliser (:func:`ivr.text.normalize`) here, the narrowest
place every recognizer result crosses on its way to Rasa; intent messages ("/call_start",
keypad "/rate{...}") are sent as they are. The call transcript keeps the recognizer's raw text.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from ivr.core.errors import DialogueError, ErrorCode
from ivr.dialogue.turns import BotTurn, parse_bot_messages
from ivr.text import normalize


@dataclass(frozen=True, slots=True)
class DialogueReply:
    turn: BotTurn
    elapsed_ms: float


TOKEN_HEADER = "X-IVR-Rasa-Token"
CHANNEL_PATH = "/webhooks/ivr/webhook"


class RasaBridge:
    """Talks to ``rasa run --enable-api --auth-token`` over HTTP: the IVR's own channel (the
    secret in ``X-IVR-Rasa-Token``) and ``/status?token=`` for health. Never blocks, never
    waits forever."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str | Sequence[str],
                 timeout_s: float, token: str = "") -> None:
        bases = [base_url] if isinstance(base_url, str) else list(base_url)
        if not bases:
            raise ValueError("RasaBridge needs at least one Rasa URL")
        self._http = http
        self._bases = [b.rstrip("/") for b in bases]
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._token = token

    def __repr__(self) -> str:  # never show the token
        return f"RasaBridge({self._bases!r})"

    def base_for(self, sender: str) -> str:
        """The Rasa server that holds ``sender``'s conversation (the same for every turn)."""
        if len(self._bases) == 1:
            return self._bases[0]
        return self._bases[zlib.crc32(sender.encode("utf-8")) % len(self._bases)]

    async def send(
        self, sender: str, message: str, metadata: Mapping[str, Any] | None = None
    ) -> DialogueReply:
        if not message.startswith("/"):
            message = normalize(message)
        body = {"sender": sender, "message": message, "metadata": dict(metadata or {})}
        started = time.perf_counter()
        base = self.base_for(sender)
        url = f"{base}{CHANNEL_PATH}"
        headers = {TOKEN_HEADER: self._token}
        try:
            async with self._http.post(url, json=body, timeout=self._timeout,
                                       headers=headers) as resp:
                text = await resp.text()
                if resp.status != 200:
                    raise DialogueError(
                        f"Rasa answered HTTP {resp.status}",
                        code=ErrorCode.DIALOGUE_BAD_RESPONSE,
                    )
        except TimeoutError as exc:
            raise DialogueError(
                f"Rasa did not answer within {self._timeout.total} s",
                code=ErrorCode.DIALOGUE_TIMEOUT,
            ) from exc
        except aiohttp.ClientError as exc:
            raise DialogueError(
                f"Rasa unreachable at {base}: {exc.__class__.__name__}",
                code=ErrorCode.DIALOGUE_UNAVAILABLE,
            ) from exc
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DialogueError(
                "Rasa reply is not JSON", code=ErrorCode.DIALOGUE_BAD_RESPONSE
            ) from exc
        return DialogueReply(parse_bot_messages(payload), (time.perf_counter() - started) * 1000)

    async def healthy(self) -> bool:
        """Every Rasa server answers its status with a model loaded."""
        results = await asyncio.gather(*(self._healthy(base) for base in self._bases))
        return all(results)

    async def _healthy(self, base: str) -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            async with self._http.get(f"{base}/status", timeout=timeout,
                                      params={"token": self._token}) as resp:
                if resp.status != 200:
                    return False
                status = await resp.json()
                if not isinstance(status, dict):
                    return False
                return bool(status.get("model_file") or status.get("model_id"))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False
        except asyncio.CancelledError:
            raise
