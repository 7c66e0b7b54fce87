"""What a call driver works with: the shared, long-lived parts and the call's own media."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.call import events as e
from ivr.call.clock import Clock
from ivr.call.identity import IdentityVerifier
from ivr.call.listener import Listener
from ivr.call.playback import Playback
from ivr.call.prompts import PromptBook
from ivr.call.recorder import CallRecorder
from ivr.call.speaker import Speaker
from ivr.core.types import Language
from ivr.dialogue.bridge import DialogueReply
from ivr.dialogue.turns import Handoff
from ivr.metrics import Metrics
from ivr.store.base import Store
from ivr.telephony.provider import MediaChannel


class Dialogue(Protocol):
    async def send(self, sender: str, message: str,
                   metadata: Mapping[str, Any] | None = None) -> DialogueReply: ...


class HandoffHandler(Protocol):
    async def handoff(self, call: Any, handoff: Handoff) -> None: ...


@dataclass(frozen=True)
class CallParts:
    store: Store
    verifier: IdentityVerifier
    handoff: HandoffHandler
    prompts: PromptBook
    metrics: Metrics
    clock: Clock


@dataclass
class CallMedia:
    """One call's channel and audio path (built by ``ivr.call.factory``)."""

    channel: MediaChannel
    listener: Listener
    playback: Playback
    speaker: Speaker
    dialogue: Dialogue
    recorder: CallRecorder
    # The call's language now: the recognizer streams opened from now on and the speaker's
    # voice follow it (the caller may ask for the other language mid-call).
    language: Language = Language.ZH
    sink: Callable[[e.CallEvent], None] | None = None

    def switch_language(self, language: Language) -> None:
        self.language = language
        self.speaker.language = language

    def attach(self, sink: Callable[[e.CallEvent], None]) -> None:
        """Where listener and playback events go (the driver)."""
        self.sink = sink

    def emit(self, event: e.CallEvent) -> None:
        if self.sink is not None:
            self.sink(event)
