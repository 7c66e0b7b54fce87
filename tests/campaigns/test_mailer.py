"""E-mail survey links over SMTP (stdlib smtplib in a thread) against a local SMTP sink."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.campaigns import admin
from ivr.campaigns.mailer import MailError, SmtpMailer
from ivr.campaigns.model import TargetState
from ivr.core.types import Language
from ivr.customers.model import Channel
from ivr.telephony.provider import CallProgress
from tests.campaigns.helpers import FakeControl, customer, fast_policy, harness
from tests.campaigns.smtp_sink import SmtpSink


async def test_smtp_mailer_delivers_utf8_mail() -> None:
    async with SmtpSink() as sink:
        mailer = SmtpMailer("127.0.0.1", sink.port, sender="noreply@wallet.example.com")
        ref = await mailer.send("li@example.com", "钱包回访问卷", "您好：\n链接 https://x/s/t\n")
        (got,) = sink.messages
        assert got.recipients == ["li@example.com"]
        msg = got.message()
        assert msg["Subject"] == "钱包回访问卷" and msg["Message-ID"] == ref
        assert "https://x/s/t" in msg.get_content()


async def test_smtp_failures_raise_mail_error() -> None:
    async with SmtpSink() as sink:
        sink.fail_next_rcpt = True
        with pytest.raises(MailError):
            await SmtpMailer("127.0.0.1", sink.port).send("x@example.com", "s", "b")
    with pytest.raises(MailError):
        await SmtpMailer("127.0.0.1", 1, timeout_s=2).send("x@example.com", "s", "b")


async def test_unreached_email_customer_gets_the_link_by_mail(tmp_path: Path) -> None:
    async with SmtpSink() as sink:
        mailer = SmtpMailer("127.0.0.1", sink.port)
        control = FakeControl()
        async with harness(tmp_path, control, mailer=mailer) as h:
            await h.customers.upsert_customers([customer(
                "m", preferred_channel=Channel.EMAIL, email="m@example.com",
                language=Language.EN, title="Ms. Li")])
            await admin.create(h.ctx, "c", campaign_id="c1",
                               policy=fast_policy(max_attempts=1).to_json())
            await admin.import_targets(h.ctx, "c1", ["m"])
            await admin.start(h.ctx, "c1")
            await h.service.tick()
            await h.service.dialer.drain()
            (attempt,) = await h.store.list_attempts("c1")
            await h.service.on_call_status(attempt.call_sid or "", CallProgress.NO_ANSWER, None,
                                           attempt.id)
            await h.service.tick()
            target = await h.store.get_target("c1", "m")
        assert target is not None and target.state is TargetState.FALLBACK
        assert target.fallback_channel == "email" and not control.sms
        (got,) = sink.messages
        assert got.recipients == ["m@example.com"]
        body = got.message().get_content()
        assert body.startswith("Hello Ms. Li,")
        assert f"https://survey.example.com/s/{target.fallback_token}" in body
        assert target.fallback_ref == got.message()["Message-ID"]
