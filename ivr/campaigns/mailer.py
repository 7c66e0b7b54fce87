"""E-mail over SMTP (stdlib ``smtplib``, run in a worker thread so the loop never blocks)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from ivr.core.errors import IvrError


class MailError(IvrError):
    """Sending an e-mail failed (connection, authentication, refused recipient)."""


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> str:
        """Send a plain-text e-mail; returns its Message-ID. Raises ``MailError``."""
        ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int = 25
    sender: str = "noreply@wallet.example.com"
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout_s: float = 10.0

    async def send(self, to: str, subject: str, body: str) -> str:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(body)
        try:
            await asyncio.to_thread(self._send_blocking, msg)
        except (OSError, smtplib.SMTPException) as err:
            raise MailError(f"smtp {self.host}:{self.port}: {type(err).__name__}: {err}") from err
        return str(msg["Message-ID"])

    def _send_blocking(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)
