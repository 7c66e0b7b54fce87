"""A tiny asyncio SMTP server that keeps every message it receives (tests only).

Enough of RFC 5321 for ``smtplib``: EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffing), RSET,
NOOP, QUIT. ``fail_next_rcpt`` makes the next RCPT fail with 550.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class SmtpSink:
    messages: list[Received] = field(default_factory=list)
    fail_next_rcpt: bool = False
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        sender, recipients = "", []
        await reply("220 sink ESMTP ready")
        try:
            while line := await reader.readline():
                verb = line.decode(errors="replace").strip()
                upper = verb.upper()
                if upper.startswith("EHLO"):
                    await reply("250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8")
                elif upper.startswith("HELO"):
                    await reply("250 sink")
                elif upper.startswith("MAIL FROM:"):
                    sender, recipients = verb[10:].strip().split()[0].strip("<>"), []
                    await reply("250 OK")
                elif upper.startswith("RCPT TO:"):
                    if self.fail_next_rcpt:
                        self.fail_next_rcpt = False
                        await reply("550 no such user")
                        continue
                    recipients.append(verb[8:].strip().strip("<>"))
                    await reply("250 OK")
                elif upper == "DATA":
                    await reply("354 end with <CRLF>.<CRLF>")
                    chunks = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    self.messages.append(Received(sender, recipients, b"".join(chunks)))
                    await reply("250 OK queued")
                elif upper in ("RSET", "NOOP"):
                    await reply("250 OK")
                elif upper == "QUIT":
                    await reply("221 bye")
                    break
                else:
                    await reply("502 not implemented")
        finally:
            writer.close()
