"""Twilio REST error bodies → ``ProviderHttpError``.

Twilio answers failures with JSON ``{"code", "message", "more_info", "status"}``; messages can
quote phone numbers, so they are masked (ivr.core.pii). Credentials never reach these functions.
"""

from __future__ import annotations

import json

from ivr.core.pii import mask_text
from ivr.telephony.base import ProviderHttpError

_MAX_MESSAGE = 300


def error_from_body(what: str, http_status: int, body: bytes) -> ProviderHttpError:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return ProviderHttpError(
            f"twilio {what} failed: HTTP {http_status} (no Twilio error body)",
            http_status=http_status,
        )
    code = data.get("code")
    provider_code = code if isinstance(code, int) and not isinstance(code, bool) else None
    raw_message = data.get("message")
    message = mask_text(raw_message)[:_MAX_MESSAGE] if isinstance(raw_message, str) else ""
    more_info = data.get("more_info")
    return ProviderHttpError(
        f"twilio {what} failed: HTTP {http_status}, code {provider_code}: {message}",
        http_status=http_status,
        provider_code=provider_code,
        more_info=more_info if isinstance(more_info, str) else "",
    )


def transport_error(what: str, reason: str) -> ProviderHttpError:
    return ProviderHttpError(f"twilio {what} failed: {reason}", http_status=0)


def bad_response(what: str, http_status: int, reason: str) -> ProviderHttpError:
    return ProviderHttpError(
        f"twilio {what}: unexpected response: {reason}", http_status=http_status
    )
