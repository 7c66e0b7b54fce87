"""A call as the agent handoff sees it while the caller waits: hold audio, announcements,
records, and the end of the handoff. The controller keeps the caller un-listened while on
hold (hold music must never be transcribed); audio played here never reaches it."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivr.call import events as e
from ivr.call.prompts import SystemPrompt
from ivr.core.types import CallOutcome, Language
from ivr.dialogue.turns import Utterance

if TYPE_CHECKING:
    from ivr.call.driver import CallDriver


@dataclass(frozen=True, slots=True)
class HeldCallInfo:
    call_sid: str
    customer_id: str | None


class DriverHandle:
    def __init__(self, driver: CallDriver) -> None:
        self._driver = driver
        self.info = HeldCallInfo(driver.call.call_id, driver.call.customer_id)
        self._seqs = itertools.count(-1, -1)  # audio of its own: negative turn numbers
        self._done: dict[int, asyncio.Future[None]] = {}

    @property
    def lang(self) -> Language:
        """The call's language now (the caller may have switched it)."""
        return self._driver.call.language

    @property
    def shutting_down(self) -> bool:
        end = self._driver.end
        return end is not None and end.reason == "shutdown"

    @property
    def playing(self) -> bool:
        return self._driver.media.playback.busy

    def hold(self) -> None:
        """Nothing to do: the controller stopped listening when it handed the call over."""

    async def say(self, text: str, *, wait: bool = True) -> None:
        """Speak a notice that is not part of the dialogue (queue position, transfer)."""
        seq = next(self._seqs)
        done = asyncio.get_running_loop().create_future()
        self._done[seq] = done
        await self._driver.media.speaker.speak(seq, (Utterance(text, uninterruptible=True),))
        if wait:
            await done

    async def play(self, pcm: bytes) -> None:
        """Queue raw audio at the channel's rate (hold music) behind what is playing."""
        seq = next(self._seqs)
        playback = self._driver.media.playback
        playback.begin(seq)
        await playback.enqueue(seq, pcm)
        playback.end(seq)

    async def stop_audio(self) -> None:
        if self.playing:
            self._driver.media.playback.cut()
            await self._driver.media.channel.clear()

    async def record(self, **details: Any) -> None:
        """Merge facts into the call record's details (e.g. queue wait, agent)."""
        self._driver.recorder.update(details=details)

    async def event(self, kind: str, code: str, detail: dict[str, Any]) -> None:
        self._driver.recorder.event(kind, code, detail)

    async def end_for_handoff(self, outcome: CallOutcome, prompt: SystemPrompt | None) -> None:
        """The handoff is over: the call ends with ``outcome`` (after ``prompt``)."""
        driver = self._driver
        driver.feed(e.HandoffFinished(driver.clock.now(), outcome, prompt))

    async def back_to_dialogue(self, message: str) -> None:
        """The handoff did not happen (no agent): the dialogue goes on with ``message``."""
        driver = self._driver
        driver.feed(e.HandoffFinished(driver.clock.now(), CallOutcome.ESCALATED, None, message))

    def audio_event(self, event: e.AudioStarted | e.AudioFinished) -> None:
        if isinstance(event, e.AudioFinished):
            done = self._done.pop(event.seq, None)
            if done is not None and not done.done():
                done.set_result(None)
