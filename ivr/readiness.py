"""Whether every part a call needs is up: ASR models, TTS workers, Rasa and the action server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ivr.dialogue.bridge import RasaBridge
from ivr.supervisor import Supervisor


@dataclass
class Readiness:
    supervisor: Supervisor | None
    bridge: RasaBridge
    asr_loaded: bool = False
    tts_ready: bool = False
    rasa_ok: bool = False

    def parts(self) -> dict[str, str]:
        parts = {"asr": "up" if self.asr_loaded else "down",
                 "tts": "up" if self.tts_ready else "down"}
        if self.supervisor is not None:
            parts.update(self.supervisor.parts())
        else:
            parts["rasa"] = "up" if self.rasa_ok else "down"
        return parts

    def ready(self) -> tuple[bool, str]:
        down = [name for name, state in self.parts().items() if state != "up"]
        return (not down, "" if not down else "down: " + ",".join(sorted(down)))

    async def poll_rasa(self) -> None:
        """For an external Rasa (not supervised here): health every few seconds."""
        while True:
            self.rasa_ok = await self.bridge.healthy()
            await asyncio.sleep(2 if not self.rasa_ok else 5)
