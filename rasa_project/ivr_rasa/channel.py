"""The IVR's input channel: Rasa's REST channel behind a shared secret.

Rasa's ``--auth-token`` protects its HTTP API but not its input channels, and the stock REST
channel lets any local process speak as any caller (``sender`` = call sid), e.g. inject
``/id_result{"result": "verified"}``. This channel (``/webhooks/ivr/webhook``) answers only
requests whose ``X-IVR-Rasa-Token`` header equals ``$IVR_RASA_TOKEN``; without that variable it
answers nobody. credentials.yml lists only this channel.
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-IVR-Rasa-Token"
TOKEN_ENV = "IVR_RASA_TOKEN"


def token_ok(given: str | None, expected: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(
        str(given).encode(), str(expected).encode())


class IvrInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "ivr"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        bp = super().blueprint(on_new_message)
        expected = os.environ.get(TOKEN_ENV, "")

        @bp.middleware("request")
        async def require_token(request: Request) -> Any:
            if not token_ok(request.headers.get(TOKEN_HEADER), expected):
                log.warning("ivr channel refused a request without the IVR's token")
                return response.json({"error": "forbidden"}, status=403)
            return None

        return bp
