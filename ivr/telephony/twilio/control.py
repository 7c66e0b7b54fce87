"""Twilio call control in neutral terms: transfer and hang-up through the REST client, and
outbound calls whose answer and status webhooks carry the IVR's dial parameters."""

from __future__ import annotations

from urllib.parse import urlencode

from ivr.core.types import Language
from ivr.telephony.base import TransferTarget
from ivr.telephony.provider import OutboundCall
from ivr.telephony.twilio.rest import TwilioRestClient

VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"
MEDIA_PATH = "/twilio/media"
VOICES = {Language.ZH: "zh-CN", Language.EN: "en-US"}  # <Say language=...>


class TwilioControl:
    """``CallControl`` (and ``Messaging``) for Twilio."""

    def __init__(self, rest: TwilioRestClient, public_url: str) -> None:
        self.rest = rest
        self._base = public_url.rstrip("/")

    def answer_url(self, params: dict[str, str]) -> str:
        return f"{self._base}{VOICE_PATH}?{urlencode(params)}"

    def status_url(self, attempt_id: str | None) -> str:
        query = f"?{urlencode({'attempt_id': attempt_id})}" if attempt_id else ""
        return f"{self._base}{STATUS_PATH}{query}"

    async def transfer(self, call_id: str, target: TransferTarget) -> None:
        await self.rest.transfer(call_id, target)

    async def hangup(self, call_id: str) -> None:
        await self.rest.hangup(call_id)

    async def leave_message(self, call_id: str, text: str, language: Language) -> None:
        """A voicemail: the message is spoken by Twilio's own <Say>, then the call ends."""
        await self.rest.say_and_hang_up(call_id, text, VOICES[language])

    async def originate(self, call: OutboundCall) -> str:
        params = dict(call.params)
        return await self.rest.place_call(
            call.to, call.from_, self.answer_url(params),
            self.status_url(params.get("attempt_id")),
            machine_detection=call.machine_detection)

    async def send_sms(self, to: str, from_: str, body: str) -> str:
        return await self.rest.send_sms(to, from_, body)
