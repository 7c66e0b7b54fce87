"""Provider signature checks and API access rules for routes."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Mapping

from aiohttp import web

from ivr.core.errors import SignatureError
from ivr.telephony.twilio_signature import SIGNATURE_HEADER
from ivr.web.services import Services

log = logging.getLogger(__name__)


def check_webhook(services: Services, request: web.Request, form: Mapping[str, str]) -> None:
    """403 unless the request carries a valid provider signature (or checks are off by config)."""
    if services.validator is None:
        return
    try:
        services.validator.validate_webhook(
            request.raw_path, form, request.headers.get(SIGNATURE_HEADER)
        )
    except SignatureError as exc:
        log.warning("rejected webhook %s from %s: %s", request.path, request.remote, exc)
        raise web.HTTPForbidden(text="invalid signature\n") from exc


def check_websocket(services: Services, request: web.Request) -> None:
    if services.validator is None:
        return
    try:
        services.validator.validate_websocket(
            request.raw_path, request.headers.get(SIGNATURE_HEADER)
        )
    except SignatureError as exc:
        log.warning("rejected media socket from %s: %s", request.remote, exc)
        raise web.HTTPForbidden(text="invalid signature\n") from exc


def check_api(services: Services, request: web.Request) -> None:
    """The REST API needs the bearer token when one is configured, else loopback clients only."""
    token = services.config.server.api_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise web.HTTPUnauthorized(text="bearer token required\n")
        return
    try:
        loopback = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise web.HTTPForbidden(text="API open to loopback only unless server.api_token is set\n")
