"""The survey link sent when the last attempt did not reach the customer: SMS through the
provider's messaging API or e-mail over SMTP, per the customer's preferred channel."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ivr.campaigns.mailer import Mailer
from ivr.campaigns.policy import Policy
from ivr.core.types import Language
from ivr.customers.model import Channel, Customer
from ivr.telephony.provider import Messaging

SMS_TEXT = {
    Language.ZH: "【钱包】{title}您好，我们致电回访未能联系上您。请花一分钟完成回访问卷：{link}",
    Language.EN: "Wallet: Hello{title}, we tried to call you back but could not reach you. "
                 "Please take our one-minute survey: {link}",
}
MAIL_SUBJECT = {Language.ZH: "钱包回访问卷", Language.EN: "Your wallet callback survey"}
MAIL_TEXT = {
    Language.ZH: "{title}您好：\n\n我们近期致电回访，未能联系上您。欢迎通过以下链接完成一分钟问卷，"
                 "帮助我们改进服务：\n{link}\n\n谢谢！",
    Language.EN: "Hello{title},\n\nWe recently tried to call you back but could not reach you. "
                 "Please tell us about your experience in a one-minute survey:\n{link}\n\n"
                 "Thank you!",
}


@dataclass(frozen=True, slots=True)
class FallbackResult:
    channel: str  # "sms" | "email" | "none"
    ref: str | None  # the message sid or Message-ID
    token: str | None


def new_token() -> str:
    return secrets.token_urlsafe(12)


def channel_for(customer: Customer, mailer_available: bool) -> Channel:
    """The preferred channel; e-mail without an address or an SMTP server falls to SMS."""
    if customer.preferred_channel is Channel.EMAIL and customer.email and mailer_available:
        return Channel.EMAIL
    if customer.preferred_channel is Channel.NONE:
        return Channel.NONE
    return Channel.SMS


def survey_link(policy: Policy, token: str) -> str:
    return policy.survey_url.replace("{token}", token)


def _title(customer: Customer, lang: Language) -> str:
    if not customer.title:
        return ""
    return customer.title if lang is Language.ZH else f" {customer.title}"


async def send_survey(customer: Customer, policy: Policy, control: Messaging,
                      mailer: Mailer | None, caller_id: str, token: str) -> FallbackResult:
    """Send the link; raises ``ProviderApiError`` / ``MailError`` when the channel fails."""
    channel = channel_for(customer, mailer is not None)
    if channel is Channel.NONE:
        return FallbackResult("none", None, None)
    lang = customer.language
    fields = {"title": _title(customer, lang), "link": survey_link(policy, token)}
    if channel is Channel.EMAIL and mailer is not None and customer.email:
        body = MAIL_TEXT[lang].format(**fields)
        ref = await mailer.send(customer.email, MAIL_SUBJECT[lang], body)
        return FallbackResult("email", ref, token)
    ref = await control.send_sms(customer.phone, caller_id, SMS_TEXT[lang].format(**fields))
    return FallbackResult("sms", ref, token)
