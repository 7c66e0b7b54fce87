"""The internal API the Rasa action server reads customers through (loopback + shared secret).

Contract (the action server codes against it):

* ``GET  /internal/customers/{customer_id}`` -> masked profile, or 404 ``not_found``
* ``POST /internal/calls/{call_sid}/followups`` ``{"kind", "detail", "due_in_hours"?}`` -> 201
  ``{"id", "due_at"}``
* ``POST /internal/calls/{call_sid}/results`` (see ``ivr.customers.results``) -> merged details

Every request must come from a loopback address and carry ``X-IVR-Internal-Token`` equal to
``server.internal_token``; errors are JSON ``{"error": code, "message": text}``. There is no
ID check here: the IVR verifies ID digits itself and the dialogue only learns the outcome
(``ivr.customers.identity``), so nothing on this host can ask "are these the digits?".
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import ipaddress
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ivr.config import Config
from ivr.core.errors import StoreError
from ivr.customers.model import FollowUpKind
from ivr.customers.results import ResultError, merge_results, validate_results
from ivr.customers.service import CustomerService
from ivr.store.records import CallRecord
from ivr.web.keys import SERVICES
from ivr.web.services import Services

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-IVR-Internal-Token"
MAX_DETAIL_INPUT = 4000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def json_errors(handler: Handler) -> Handler:
    """Turn :class:`ApiError` and store failures into JSON error responses."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            return json_error(err.status, err.code, err.message)
        except StoreError as err:
            log.error("%s %s: %s", request.method, request.path, err)
            return json_error(500, "store_failed", "the store failed; see the server log")

    return wrapper


def services_of(request: web.Request) -> Services:
    services = request.app.get(SERVICES)
    if services is None:
        raise ApiError(503, "unavailable", "the server is starting")
    return services


def customers_of(services: Services) -> CustomerService:
    if services.customers is None:
        raise ApiError(503, "unavailable", "customer records are not configured")
    return services.customers


def is_loopback(remote: str | None) -> bool:
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_internal(services: Services, request: web.Request) -> None:
    """403 unless the client is on loopback and sends the configured shared secret."""
    if not is_loopback(request.remote):
        log.warning("internal API refused %s %s from non-loopback %s", request.method,
                    request.path, request.remote)
        raise ApiError(403, "forbidden", "the internal API answers loopback clients only")
    expected = services.config.server.internal_token
    given = request.headers.get(TOKEN_HEADER, "")
    if not expected:
        log.error("internal API refused: server.internal_token is not set")
        raise ApiError(403, "forbidden", "internal token not configured")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("internal API refused %s %s: %s token", request.method, request.path,
                    "invalid" if given else "missing")
        raise ApiError(403, "forbidden", f"{TOKEN_HEADER} missing or invalid")


def ensure_internal_token(config: Config) -> Config:
    """``config`` with a random ``server.internal_token`` when none is configured."""
    if config.server.internal_token:
        return config
    server = dataclasses.replace(config.server, internal_token=secrets.token_urlsafe(32))
    return dataclasses.replace(config, server=server)


def internal(handler: Callable[[web.Request, Services], Awaitable[web.StreamResponse]]
             ) -> Handler:
    @json_errors
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        services = services_of(request)
        check_internal(services, request)
        return await handler(request, services)

    return wrapper


async def read_object(request: web.Request, allowed: frozenset[str] | None = None
                      ) -> dict[str, Any]:
    """The JSON object body; 400 when it is not one or has keys outside ``allowed``."""
    try:
        body = await request.json(loads=json.loads) if request.can_read_body else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, "bad_json", f"body is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    if allowed is not None:
        unknown = sorted(str(key) for key in body if key not in allowed)
        if unknown:
            raise ApiError(400, "unknown_fields", f"unknown key(s): {', '.join(unknown)}")
    return body


@internal
async def get_customer(request: web.Request, services: Services) -> web.StreamResponse:
    profile = await customers_of(services).profile(request.match_info["customer_id"])
    if profile is None:
        raise ApiError(404, "not_found", "no such customer")
    return web.json_response(profile)


async def _call_or_404(services: Services, call_sid: str) -> CallRecord:
    call = await services.store.get_call(call_sid)
    if call is None:
        raise ApiError(404, "not_found", "no such call")
    return call


def _kind(value: object) -> FollowUpKind:
    try:
        return FollowUpKind(str(value))
    except ValueError:
        known = ", ".join(k.value for k in FollowUpKind)
        raise ApiError(400, "invalid_field", f"kind must be one of {known}") from None


@internal
async def add_followup(request: web.Request, services: Services) -> web.StreamResponse:
    body = await read_object(request, frozenset({"kind", "detail", "due_in_hours"}))
    kind = _kind(body.get("kind"))
    detail, hours = body.get("detail", ""), body.get("due_in_hours")
    if not isinstance(detail, str) or len(detail) > MAX_DETAIL_INPUT:
        raise ApiError(400, "invalid_field", f"detail must be a string of at most "
                       f"{MAX_DETAIL_INPUT} characters")
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float)):
        raise ApiError(400, "invalid_field", "due_in_hours must be a number")
    customers = customers_of(services)
    call = await _call_or_404(services, request.match_info["call_sid"])
    try:
        task = await customers.add_followup(kind, detail, call_sid=call.call_sid,
                                            customer_id=call.customer_id, due_in_hours=hours)
    except ValueError as err:
        raise ApiError(400, "invalid_field", str(err)) from None
    return web.json_response({"id": task.id, "due_at": task.due_at.isoformat()}, status=201)


@internal
async def post_results(request: web.Request, services: Services) -> web.StreamResponse:
    body = await read_object(request)
    call = await _call_or_404(services, request.match_info["call_sid"])
    try:
        update = validate_results(body)
    except ResultError as err:
        raise ApiError(400, err.code, str(err)) from None
    if update:
        call = await services.store.update_call(
            call.call_sid, details=merge_results(call.details, update))
    return web.json_response(call.details)


def setup(app: web.Application) -> None:
    app.router.add_get("/internal/customers/{customer_id}", get_customer)
    app.router.add_post("/internal/calls/{call_sid}/followups", add_followup)
    app.router.add_post("/internal/calls/{call_sid}/results", post_results)
