"""The details of an offer the customer accepted in a call, sent through their channel (SMS
through the provider's messaging API or e-mail over SMTP: the survey fallback's senders and
channel choice). The text is fixed per language and carries no personal data."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.campaigns.fallback import channel_for
from ivr.campaigns.mailer import Mailer
from ivr.core.types import Language
from ivr.customers.model import Channel, Customer
from ivr.telephony.provider import Messaging

# The promotion the dialogue offers (rasa_project/domain.yml utter_ask_offer), in full.
OFFER_TEXT = {
    Language.ZH: "【钱包】活动详情：本月使用钱包付款满50元立减5元，每人限一次，"
                 "付款时自动优惠。如有疑问请致电客服。",
    Language.EN: "Wallet: offer details - this month, pay 50 yuan or more with the wallet and "
                 "get 5 yuan off, once per customer, applied automatically at payment.",
}
MAIL_SUBJECT = {Language.ZH: "钱包活动详情", Language.EN: "Your wallet offer details"}


@dataclass(frozen=True, slots=True)
class SentMessage:
    channel: str  # "sms" | "email" | "none" (the customer wants no messages)
    ref: str | None  # the message sid or Message-ID


async def send_offer(customer: Customer, control: Messaging, mailer: Mailer | None,
                     caller_id: str) -> SentMessage:
    """Raises ``ProviderApiError`` / ``MailError`` when the channel fails."""
    channel = channel_for(customer, mailer is not None)
    text = OFFER_TEXT[customer.language]
    if channel is Channel.NONE:
        return SentMessage("none", None)
    if channel is Channel.EMAIL and mailer is not None and customer.email:
        ref = await mailer.send(customer.email, MAIL_SUBJECT[customer.language], text)
        return SentMessage("email", ref)
    return SentMessage("sms", await control.send_sms(customer.phone, caller_id, text))
