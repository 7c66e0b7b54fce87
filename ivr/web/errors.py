"""Unexpected handler errors become answers: malformed input is a 4xx, never a 500.

Handlers validate what they read, but input can still break library code beneath them (a form
in an unknown charset or invalid UTF-8, a number too large for SQLite, a naive timestamp
compared with an aware one). Those surface as ``ValueError``/``UnicodeError``/``LookupError``/
``OverflowError``/``TypeError`` and are answered 400; a failing store is 503; anything else is
logged with its traceback and answered 500 without details.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ivr.core.errors import StoreError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_INPUT_ERRORS = (UnicodeError, LookupError, ValueError, OverflowError, TypeError)


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPException, asyncio.CancelledError):
        raise
    except _INPUT_ERRORS as exc:
        log.warning("%s %s: malformed request (%s: %s)", request.method, request.path,
                    type(exc).__name__, str(exc)[:200])
        return error_response(400, "bad_request",
                              f"malformed request ({type(exc).__name__})")
    except StoreError as exc:
        log.error("%s %s: %s", request.method, request.path, exc)
        return error_response(503, "store_unavailable", "the store failed; try again later")
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal_error", "internal error; see the server log")
