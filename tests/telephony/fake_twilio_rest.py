"""A local stand-in for the three Twilio REST endpoints the IVR uses — reusable by any test.

It speaks Twilio's documented contract (API 2010-04-01, form-encoded POSTs, HTTP basic auth):

* ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` — create an outbound call → 201 + Call JSON
  (needs ``To`` 21201, ``From`` 21213, ``Url`` or ``Twiml`` 21205).
* ``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` — update a live call with
  ``Twiml=`` (redirect, e.g. a ``<Dial>`` transfer) or ``Status=completed|canceled`` (hang up)
  → 200 + Call JSON; unknown sid → 404 code 20404; call already ended → 400 code 21220.
* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` — send an SMS → 201 + Message JSON
  (needs ``To`` 21604, ``From`` 21603, ``Body`` 21602).

Bad or missing credentials → 401 code 20003 (with ``WWW-Authenticate``); any other path → 404
code 20404. Errors use Twilio's JSON shape ``{"code", "message", "more_info", "status"}``.

Usage::

    async with FakeTwilioRest() as fake:          # listens on 127.0.0.1, random port
        client = TwilioRestClient(session, fake.credentials(), base_url=fake.base_url)
        sid = fake.add_call()                       # a live inbound call to act on
        fake.fail_next(503, 20500, "Internal Server Error")   # fault injection, FIFO
        fake.delay_next(2.0)                        # make the next answer slow (timeouts)
        ...
        fake.requests[-1].form.getall("StatusCallbackEvent")
        fake.calls[sid].status, fake.calls[sid].twiml, fake.messages

Import it from other test folders as ``tests.telephony.fake_twilio_rest`` when the repository
root is on ``sys.path`` (``python -m pytest`` or pytest ``pythonpath = ["."]``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from ivr.telephony.twilio.rest import TwilioCredentials

API = "/2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake-auth-token-0123456789abcdef"

_ROUTES = [
    ("create_call", re.compile(rf"^{API}/Accounts/(?P<account>[^/]+)/Calls\.json$")),
    (
        "update_call",
        re.compile(rf"^{API}/Accounts/(?P<account>[^/]+)/Calls/(?P<call>[^/]+)\.json$"),
    ),
    ("create_message", re.compile(rf"^{API}/Accounts/(?P<account>[^/]+)/Messages\.json$")),
]
_ENDED = frozenset({"completed", "canceled", "failed", "busy", "no-answer"})


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: MultiDictProxy[str]
    auth_user: str | None
    answered_status: int = 0


@dataclass
class FakeCall:
    sid: str
    to: str = "+15005550006"
    from_: str = "+15005550001"
    status: str = "in-progress"
    direction: str = "inbound"
    twiml: list[str] = field(default_factory=list)


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str
    body: str
    status: str = "queued"


@dataclass
class _Fault:
    status: int = 0
    code: int = 0
    message: str = ""
    delay_s: float = 0.0


class FakeTwilioRest:
    """In-process fake of Twilio's REST API for calls and messages (see module docstring)."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        api_keys: dict[str, str] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self._api_keys = dict(api_keys or {})
        self.requests: list[RecordedRequest] = []
        self.calls: dict[str, FakeCall] = {}
        self.messages: dict[str, FakeMessage] = {}
        self._faults: list[_Fault] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)  # don't wait on delayed answers
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTwilioRest:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- test controls ---------------------------------------------------------------------
    def credentials(self, api_key_sid: str | None = None) -> TwilioCredentials:
        """Credentials the fake accepts: the auth token, or a registered API key's secret."""
        if api_key_sid is None:
            return TwilioCredentials.from_auth_token(self.account_sid, self._auth_token)
        return TwilioCredentials.from_api_key(
            self.account_sid, api_key_sid, self._api_keys[api_key_sid]
        )

    def add_call(self, sid: str | None = None, status: str = "in-progress") -> str:
        """Register a live call (e.g. an inbound call the IVR is handling); returns its sid."""
        call = FakeCall(sid=sid or _new_sid("CA"), status=status)
        self.calls[call.sid] = call
        return call.sid

    def fail_next(self, status: int, code: int, message: str = "Injected failure") -> None:
        """The next request (FIFO, one per call) is answered with this Twilio error."""
        self._faults.append(_Fault(status=status, code=code, message=message))

    def delay_next(self, seconds: float) -> None:
        """The next request is answered normally, but only after ``seconds``."""
        self._faults.append(_Fault(delay_s=seconds))

    # --- HTTP ------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        form = await request.post() if request.method == "POST" else MultiDictProxy(MultiDict())
        text_form = MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))
        auth_user = _basic_user(request)
        record = RecordedRequest(request.method, request.path, text_form, auth_user)
        self.requests.append(record)
        response = await self._answer(request, text_form)
        record.answered_status = response.status
        return response

    async def _answer(self, request: web.Request, form: MultiDictProxy[str]) -> web.Response:
        if self._faults:
            fault = self._faults.pop(0)
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status:
                return _error(fault.status, fault.code, fault.message)
        for name, pattern in _ROUTES:
            match = pattern.match(request.path)
            if match is None:
                continue
            if not self._authorized(request, match["account"]):
                return _unauthorized()
            if request.method != "POST":
                return _error(405, 20004, "Method not allowed")
            handler = getattr(self, f"_{name}")
            result: web.Response = handler(match, form)
            return result
        return _not_found(request.path)

    def _authorized(self, request: web.Request, account: str) -> bool:
        pair = _basic_pair(request)
        if pair is None or account != self.account_sid:
            return False
        login, password = pair
        if login == self.account_sid:
            return secrets.compare_digest(password, self._auth_token)
        secret = self._api_keys.get(login)
        return secret is not None and secrets.compare_digest(password, secret)

    def _create_call(self, match: re.Match[str], form: MultiDictProxy[str]) -> web.Response:
        if not form.get("To"):
            return _error(400, 21201, "No 'To' number is specified")
        if not form.get("From"):
            return _error(400, 21213, "No 'From' number is specified")
        if not (form.get("Url") or form.get("Twiml")):
            return _error(400, 21205, "Url parameter is required.")
        call = FakeCall(
            sid=_new_sid("CA"),
            to=form["To"],
            from_=form["From"],
            status="queued",
            direction="outbound-api",
        )
        self.calls[call.sid] = call
        return web.json_response(self._call_json(call), status=201)

    def _update_call(self, match: re.Match[str], form: MultiDictProxy[str]) -> web.Response:
        call = self.calls.get(match["call"])
        if call is None:
            return _not_found(match.string)
        if call.status in _ENDED:
            return _error(400, 21220, "Call is not in-progress. Cannot redirect.")
        status = form.get("Status")
        if status in ("completed", "canceled"):
            call.status = status
        elif "Twiml" in form:
            call.twiml.append(form["Twiml"])
        elif status is not None:
            return _error(400, 21218, "Invalid call status")
        return web.json_response(self._call_json(call), status=200)

    def _create_message(self, match: re.Match[str], form: MultiDictProxy[str]) -> web.Response:
        if not form.get("To"):
            return _error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not form.get("Body"):
            return _error(400, 21602, "Message body is required.")
        msg = FakeMessage(_new_sid("SM"), form["To"], form["From"], form["Body"])
        self.messages[msg.sid] = msg
        return web.json_response(self._message_json(msg), status=201)

    def _call_json(self, call: FakeCall) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        uri = f"{API}/Accounts/{self.account_sid}/Calls/{call.sid}.json"
        return {
            "account_sid": self.account_sid,
            "answered_by": None,
            "api_version": "2010-04-01",
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": call.direction,
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": call.from_,
            "from_formatted": call.from_,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "sid": call.sid,
            "start_time": None,
            "status": call.status,
            "subresource_uris": {
                "notifications": uri.replace(".json", "/Notifications.json"),
                "recordings": uri.replace(".json", "/Recordings.json"),
            },
            "to": call.to,
            "to_formatted": call.to,
            "uri": uri,
        }

    def _message_json(self, msg: FakeMessage) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        uri = f"{API}/Accounts/{self.account_sid}/Messages/{msg.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": msg.body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": msg.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": msg.sid,
            "status": msg.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": msg.to,
            "uri": uri,
        }


def _new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _basic_pair(request: web.Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        login, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (login, password) if sep else None


def _basic_user(request: web.Request) -> str | None:
    pair = _basic_pair(request)
    return pair[0] if pair else None


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
        **extra,
    }
    return web.json_response(body, status=status)


def _unauthorized() -> web.Response:
    response = _error(
        401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect."
    )
    response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _not_found(path: str) -> web.Response:
    return _error(404, 20404, f"The requested resource {path} was not found")
