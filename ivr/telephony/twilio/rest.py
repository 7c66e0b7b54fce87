"""Async Twilio REST call control (``CallControl``) on a shared ``aiohttp.ClientSession``.

Not the ``twilio`` library's HTTP client: it is synchronous and would block the event loop.
Endpoints (API version 2010-04-01), all form-encoded POSTs with HTTP basic auth:
  ``/Accounts/{AccountSid}/Calls/{CallSid}.json`` (Twiml= transfer, Status=completed hang-up),
  ``/Accounts/{AccountSid}/Calls.json`` (outbound call), ``/Accounts/{AccountSid}/Messages.json``.
No automatic retries: these POSTs are not idempotent.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from ivr.core.pii import mask_phone
from ivr.telephony.base import TransferTarget
from ivr.telephony.twilio.rest_errors import bad_response, error_from_body, transport_error
from ivr.telephony.twilio.twiml import dial, say_and_hang_up

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.twilio.com"
API_VERSION: Final = "2010-04-01"
CALL_STATUS_EVENTS: Final = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True, slots=True)
class TwilioCredentials:
    """``username`` is the Account SID (with the auth token) or an API key SID (with its
    secret); requests always go to ``account_sid``'s resources."""

    account_sid: str
    username: str
    password: str = field(repr=False)

    @classmethod
    def from_auth_token(cls, account_sid: str, auth_token: str) -> TwilioCredentials:
        return cls(account_sid, account_sid, auth_token)

    @classmethod
    def from_api_key(cls, account_sid: str, key_sid: str, secret: str) -> TwilioCredentials:
        return cls(account_sid, key_sid, secret)


@dataclass(frozen=True, slots=True)
class TransferOptions:
    """How ``transfer`` dials: caller id shown to the agent, ring time, Dial ``action`` URL."""

    caller_id: str | None = None
    timeout_s: int = 30
    action_url: str | None = None


class TwilioRestClient:
    """``CallControl`` for Twilio. Every failure raises ``ProviderHttpError``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credentials: TwilioCredentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 10.0,
        transfer_options: TransferOptions | None = None,
        amd_callback_url: str | None = None,
    ) -> None:
        self._session = session
        self._headers = {"Authorization": _basic_auth(credentials), "Accept": "application/json"}
        account = quote(credentials.account_sid, safe="")
        self._account_url = f"{base_url.rstrip('/')}/{API_VERSION}/Accounts/{account}"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._transfer = transfer_options or TransferOptions()
        self._amd_callback_url = amd_callback_url

    def __repr__(self) -> str:  # never show credentials
        return f"TwilioRestClient(account_url={self._account_url!r})"

    async def transfer(self, call_sid: str, target: TransferTarget) -> None:
        """Replace the live call's TwiML with ``<Dial>`` to the target (ends the media stream)."""
        twiml = dial(
            target,
            caller_id=self._transfer.caller_id,
            timeout_s=self._transfer.timeout_s,
            action_url=self._transfer.action_url,
        )
        await self._post(_call_path(call_sid), [("Twiml", twiml)], f"transfer {call_sid}")
        log.info("twilio transfer %s -> %r", call_sid, target)

    async def hangup(self, call_sid: str) -> None:
        await self._post(_call_path(call_sid), [("Status", "completed")], f"hangup {call_sid}")
        log.info("twilio hangup %s", call_sid)

    async def say_and_hang_up(self, call_sid: str, text: str, language: str) -> None:
        """Replace the live call's TwiML with a spoken message and a hang-up (voicemail)."""
        await self._post(_call_path(call_sid), [("Twiml", say_and_hang_up(text, language))],
                         f"message {call_sid}")
        log.info("twilio message left on %s", call_sid)

    async def place_call(
        self,
        to: str,
        from_: str,
        answer_url: str,
        status_callback_url: str,
        machine_detection: bool = False,
    ) -> str:
        """Outbound call; Twilio fetches TwiML from ``answer_url`` when answered. With
        ``machine_detection`` AMD runs asynchronously and posts ``AnsweredBy`` to the AMD
        callback URL (default: the status callback URL)."""
        form = [
            ("To", to),
            ("From", from_),
            ("Url", answer_url),
            ("Method", "POST"),
            ("StatusCallback", status_callback_url),
            ("StatusCallbackMethod", "POST"),
            *(("StatusCallbackEvent", event) for event in CALL_STATUS_EVENTS),
        ]
        if machine_detection:
            form += [
                ("MachineDetection", "DetectMessageEnd"),
                ("AsyncAmd", "true"),
                ("AsyncAmdStatusCallback", self._amd_callback_url or status_callback_url),
                ("AsyncAmdStatusCallbackMethod", "POST"),
            ]
        what = f"place call to {mask_phone(to)}"
        sid = _sid(await self._post("/Calls.json", form, what), what)
        log.info("twilio %s: %s", what, sid)
        return sid

    async def send_sms(self, to: str, from_: str, body: str) -> str:
        what = f"sms to {mask_phone(to)}"
        form = [("To", to), ("From", from_), ("Body", body)]
        sid = _sid(await self._post("/Messages.json", form, what), what)
        log.info("twilio %s: %s", what, sid)
        return sid

    async def _post(self, path: str, form: list[tuple[str, str]], what: str) -> dict[str, Any]:
        url = self._account_url + path
        try:
            async with self._session.post(
                url, data=form, headers=self._headers, timeout=self._timeout
            ) as resp:
                status = resp.status
                body = await resp.read()
        except TimeoutError as exc:
            raise transport_error(what, "timed out") from exc
        except aiohttp.ClientError as exc:
            raise transport_error(what, type(exc).__name__) from exc
        if not 200 <= status < 300:
            err = error_from_body(what, status, body)
            log.warning("%s", err)
            raise err
        return _json_object(body, what, status)


def _basic_auth(credentials: TwilioCredentials) -> str:
    if ":" in credentials.username:
        raise ValueError("a ':' is not allowed in the basic-auth user name")
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _call_path(call_sid: str) -> str:
    if not call_sid:
        raise ValueError("call_sid is empty")
    return f"/Calls/{quote(call_sid, safe='')}.json"


def _json_object(body: bytes, what: str, status: int) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise bad_response(what, status, "body is not JSON") from exc
    if not isinstance(data, dict):
        raise bad_response(what, status, "body is not a JSON object")
    return data


def _sid(data: dict[str, Any], what: str) -> str:
    sid = data.get("sid")
    if not isinstance(sid, str) or not sid:
        raise bad_response(what, 0, "no 'sid' in response")
    return sid
