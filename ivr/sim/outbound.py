"""The phone simulator answering an OUTBOUND call, as the callee's phone would via Twilio.

Twilio, once the callee answers a call placed with ``Url=<answer_url>``, POSTs the signed
voice webhook to that URL (``Direction=outbound-api``, ``From`` = the IVR's caller id,
``To`` = the callee); the TwiML opens the media stream. :meth:`OutboundPhone.answer` does
exactly that for a given call sid, then plays the caller script like
:meth:`PhoneSimulator.call`. Inbound calls (``call``/``run``) behave as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp

from ivr.sim.phone import LiveCall, PhoneSimulator, SimOptions, SimResult
from ivr.sim.script import CallScript
from ivr.telephony.twilio.signature import SIGNATURE_HEADER, sign


class OutboundPhone(PhoneSimulator):
    def __init__(self, options: SimOptions) -> None:
        super().__init__(options)
        self._answers: dict[str, tuple[str, str, str]] = {}

    async def answer(
        self,
        answer_url: str,
        call_sid: str,
        script: CallScript,
        *,
        to: str | None = None,
        from_: str | None = None,
        record: bool = False,
        before_turn: Callable[[int], Awaitable[None]] | None = None,
    ) -> SimResult:
        """Answer the outbound call ``call_sid`` whose TwiML lives at ``answer_url`` (the
        public URL the IVR gave the provider) and play ``script`` as the callee."""
        self._answers[call_sid] = (answer_url, to or self.o.from_number,
                                   from_ or self.o.to_number)

        async def drive(live: LiveCall) -> None:
            await self._drive(live.ws, live.stream_sid, script, live.line, live.result,
                              before_turn)

        try:
            return await self.run(script, drive, record=record, call_sid=call_sid)
        finally:
            self._answers.pop(call_sid, None)

    async def _webhook(self, http: aiohttp.ClientSession, sid: str, script: CallScript) -> str:
        if sid not in self._answers:
            return await super()._webhook(http, sid, script)
        answer_url, to, from_ = self._answers[sid]
        parts = urlsplit(answer_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        form = {
            "AccountSid": self.o.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "From": from_,
            "To": to,
        }
        headers = {SIGNATURE_HEADER: sign(answer_url, form, self.o.auth_token)}
        async with http.post(self._base + path, data=form, headers=headers) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"voice webhook answered HTTP {resp.status}: {text.strip()}")
            return text
