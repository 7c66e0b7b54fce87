"""A fake carrier: ``FakeTwilioRest`` whose created calls then "happen" on a phone network.

For each outbound call the IVR creates, the carrier follows the plan scripted for the
dialled number — ``busy``, ``no-answer``, ``failed``, ``machine`` (answered, then the async
AMD callback says ``machine_start``; the call ends when the IVR hangs up) or ``answer`` (the
``answerer`` plays the callee: in-process tests write the call record, the e2e test drives
the phone simulator against the real IVR) — and posts Twilio-signed status callbacks to the
call's ``StatusCallback`` URL, as Twilio does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from multidict import MultiDictProxy

from ivr.telephony.twilio.signature import SIGNATURE_HEADER, sign
from tests.telephony.fake_twilio_rest import DEFAULT_AUTH_TOKEN, FakeTwilioRest


@dataclass(frozen=True)
class PlacedCall:
    sid: str
    to: str
    from_: str
    answer_url: str
    status_url: str
    amd: bool


Answerer = Callable[[PlacedCall], Awaitable[None]]


@dataclass
class Posted:
    url: str
    form: dict[str, str]
    status: int


# The statuses after which a call is over: its channel is free before the callback is sent.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass
class _Live:
    up: set[str] = field(default_factory=set)  # the sids of the calls using a channel
    peak: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class FakeCarrier(FakeTwilioRest):
    def __init__(self, plans: dict[str, list[str]], answerer: Answerer, *,
                 auth_token: str = DEFAULT_AUTH_TOKEN, default: str = "no-answer",
                 hangup_wait_s: float = 10.0) -> None:
        super().__init__(auth_token=auth_token)
        self.plans = {number: list(steps) for number, steps in plans.items()}
        self.answerer = answerer
        self.default = default
        self.posted: list[Posted] = []
        self.errors: list[str] = []
        self._token = auth_token
        self._live = _Live()
        self._hangup_wait_s = hangup_wait_s
        self._http: aiohttp.ClientSession | None = None

    @property
    def peak_live(self) -> int:
        return self._live.peak

    async def close(self) -> None:
        await self.idle()
        if self._http is not None:
            await self._http.close()
        await super().close()

    async def idle(self) -> None:
        """Wait until every call placed so far has ended and its callbacks are posted."""
        while self._live.tasks:
            await asyncio.gather(*list(self._live.tasks), return_exceptions=True)

    def _create_call(self, match: Any, form: MultiDictProxy[str]) -> web.Response:
        response = super()._create_call(match, form)
        if response.status == 201 and isinstance(response.body, bytes):
            sid = json.loads(response.body)["sid"]
            call = PlacedCall(sid, form["To"], form["From"], form.get("Url", ""),
                              form.get("StatusCallback", ""), form.get("AsyncAmd") == "true")
            amd_url = form.get("AsyncAmdStatusCallback") or call.status_url
            task = asyncio.get_running_loop().create_task(self._network(call, amd_url))
            self._live.tasks.add(task)
            task.add_done_callback(self._live.tasks.discard)
        return response

    async def _post(self, url: str, call: PlacedCall, **fields: str) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        form = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01",
                "CallSid": call.sid, "Direction": "outbound-api", "From": call.from_,
                "To": call.to, **fields}
        headers = {SIGNATURE_HEADER: sign(url, form, self._token)}
        async with self._http.post(url, data=form, headers=headers) as resp:
            self.posted.append(Posted(url, form, resp.status))
            if resp.status >= 300:
                self.errors.append(f"{url} -> HTTP {resp.status}: {await resp.text()}")

    async def _status(self, call: PlacedCall, status: str) -> None:
        self.calls[call.sid].status = status
        if status in FINAL_STATUSES:  # as on a real network: the call ends, then is reported
            self._live.up.discard(call.sid)
        await self._post(call.status_url, call, CallStatus=status,
                         SequenceNumber=str(sum(p.form["CallSid"] == call.sid
                                                for p in self.posted)))

    async def _network(self, call: PlacedCall, amd_url: str) -> None:
        plan = self.plans.get(call.to)
        step = plan.pop(0) if plan else self.default
        self._live.up.add(call.sid)
        self._live.peak = max(self._live.peak, len(self._live.up))
        try:
            await asyncio.sleep(0.01)
            await self._status(call, "initiated")
            await self._status(call, "ringing")
            if step in ("busy", "no-answer", "failed"):
                await self._status(call, step)
                return
            await self._status(call, "in-progress")
            if step == "machine":
                if call.amd:
                    await self._post(amd_url, call, AnsweredBy="machine_start",
                                     MachineDetectionDuration="1800")
                await self._hung_up(call.sid)
            else:
                await self.answerer(call)
            await self._status(call, "completed")
        except Exception as err:  # surfaced by the tests through ``errors``
            self.errors.append(f"{call.sid}: {type(err).__name__}: {err}")
        finally:
            self._live.up.discard(call.sid)

    async def _hung_up(self, sid: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._hangup_wait_s
        while self.calls[sid].status != "completed" and loop.time() < deadline:  # noqa: ASYNC110 - the fake's state has no event to wait on
            await asyncio.sleep(0.01)
        if self.calls[sid].status != "completed":
            self.errors.append(f"{sid}: the IVR never hung up on the machine")
