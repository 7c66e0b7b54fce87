"""Tiny async client for the IVR's internal customer API (the only source of customer data).

Environment: ``IVR_API_URL`` (e.g. http://127.0.0.1:8080) and ``IVR_INTERNAL_TOKEN`` (sent as
``X-IVR-Internal-Token``). Every call has a short total timeout; any transport error, timeout,
non-2xx status or non-JSON body raises :class:`ApiError`, so callers handle one exception type
(the flow then apologises and hands off with reason ``system_error``).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-IVR-Internal-Token"
DEFAULT_TIMEOUT_S = 4.0


class ApiError(Exception):
    """The API could not be used; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(ApiError):
    pass


def _base_url() -> str:
    url = os.environ.get("IVR_API_URL", "").strip().rstrip("/")
    if not url:
        raise ApiError("IVR_API_URL is not set")
    return url


def _headers() -> dict[str, str]:
    headers = {"Accept": "application/json"}
    token = os.environ.get("IVR_INTERNAL_TOKEN", "")
    if token:
        headers[TOKEN_HEADER] = token
    return headers


def _timeout() -> float:
    try:
        return float(os.environ.get("IVR_API_TIMEOUT_S", DEFAULT_TIMEOUT_S))
    except ValueError:
        return DEFAULT_TIMEOUT_S


async def _request(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    url = _base_url() + path
    timeout = aiohttp.ClientTimeout(total=_timeout())
    try:
        async with aiohttp.ClientSession(timeout=timeout, headers=_headers()) as session:
            async with session.request(method, url, json=body) as resp:
                text = await resp.text()
                if resp.status == 404:
                    raise NotFound(f"{method} {path}: not found", 404)
                if not 200 <= resp.status < 300:
                    raise ApiError(f"{method} {path}: HTTP {resp.status}", resp.status)
    except ApiError:
        raise
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ApiError(f"{method} {path}: {exc.__class__.__name__}") from exc
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(f"{method} {path}: reply is not JSON") from exc


def _seg(value: str) -> str:
    return quote(str(value), safe="")


async def get_customer(customer_id: str) -> dict[str, Any]:
    data = await _request("GET", f"/internal/customers/{_seg(customer_id)}")
    if not isinstance(data, dict):
        raise ApiError("customer record is not an object")
    return data


async def create_followup(
    call_sid: str, kind: str, detail: str, due_in_hours: float | None = None
) -> Any:
    body: dict[str, Any] = {"kind": kind, "detail": detail}
    if due_in_hours is not None:
        body["due_in_hours"] = due_in_hours
    data = await _request("POST", f"/internal/calls/{_seg(call_sid)}/followups", body)
    return data.get("id") if isinstance(data, dict) else None


async def post_results(call_sid: str, results: dict[str, Any]) -> None:
    if results:
        await _request("POST", f"/internal/calls/{_seg(call_sid)}/results", results)


async def book_callback(call_sid: str, when: str, lang: str) -> dict[str, Any]:
    """Book a callback at the caller's words ``when``; the reply has ``readback`` (the due
    time to say back, in ``lang``), ``due_at`` and ``as_asked``."""
    data = await _request("POST", f"/internal/calls/{_seg(call_sid)}/callback",
                          {"when": when[:200], "lang": lang})
    if not isinstance(data, dict) or not isinstance(data.get("readback"), str):
        raise ApiError("callback reply has no 'readback'")
    return data


async def opt_out(call_sid: str) -> None:
    """The customer withdrew consent: never call them again (do-not-call, every campaign)."""
    await _request("POST", f"/internal/calls/{_seg(call_sid)}/opt-out", {})


async def send_offer(call_sid: str) -> bool:
    """Send the accepted offer's details through the customer's channel; False when the IVR
    could not send them (it recorded that and made a follow-up)."""
    data = await _request("POST", f"/internal/calls/{_seg(call_sid)}/offer", {})
    return bool(isinstance(data, dict) and data.get("sent"))
