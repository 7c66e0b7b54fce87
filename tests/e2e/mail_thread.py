"""A local SMTP sink on its own event loop thread, for the session's ``ivr serve``: mail the
server sends (an accepted offer's details to a customer who prefers e-mail) is kept here for the
tests to read, and nothing leaves the machine."""

from __future__ import annotations

import asyncio
import threading

from tests.campaigns.smtp_sink import Received, SmtpSink


class MailSinkThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="smtp-sink")
        self.sink = SmtpSink()

    def start(self) -> int:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sink.__aenter__(), self.loop).result(10)
        return self.sink.port

    def env(self) -> dict[str, str]:
        """The server settings that send its mail here."""
        return {"IVR_CAMPAIGNS_SMTP_HOST": "127.0.0.1",
                "IVR_CAMPAIGNS_SMTP_PORT": str(self.sink.port),
                "IVR_CAMPAIGNS_SMTP_FROM": "noreply@wallet.example.com"}

    def received(self, to: str) -> list[Received]:
        return [m for m in list(self.sink.messages) if to in m.recipients]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sink.__aexit__(None, None, None),
                                         self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
