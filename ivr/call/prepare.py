"""The greeting, prepared early: when the provider announces a call (voice webhook, ARI
event), the first dialogue turn is requested and its audio synthesized while the media stream
is still being set up. The call's driver then finds both ready (``PreparedDialogue`` and
``PreparedSpeech`` wrap the shared dialogue and speech for that one call)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ivr.call.controller import START_MESSAGE
from ivr.call.model import CallContext, dialogue_metadata
from ivr.call.parts import Dialogue
from ivr.call.speaker import Speech
from ivr.core.audio import Pcm
from ivr.core.errors import IvrError
from ivr.core.types import Language
from ivr.dialogue.bridge import DialogueReply


class _Rendering:
    """Audio of one text as it is synthesized (read while still being written)."""

    def __init__(self) -> None:
        self.chunks: list[Pcm] = []
        self.done = False
        self.changed = asyncio.Event()

    async def read(self) -> AsyncIterator[Pcm]:
        index = 0
        while True:
            while index < len(self.chunks):
                yield self.chunks[index]
                index += 1
            if self.done:
                return
            self.changed.clear()
            await self.changed.wait()


class PreparedCall:
    def __init__(self, call: CallContext, dialogue: Dialogue, speech: Speech) -> None:
        self.call = call
        self._dialogue = dialogue
        self._speech = speech
        self.audio: dict[str, _Rendering] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.reply = asyncio.ensure_future(self._first_turn())

    async def _first_turn(self) -> DialogueReply:
        reply = await self._dialogue.send(self.call.call_id, START_MESSAGE,
                                          dialogue_metadata(self.call))
        for utterance in reply.turn.utterances:
            rendering = self.audio[utterance.text] = _Rendering()
            task = asyncio.ensure_future(self._render(utterance.text, rendering))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return reply

    async def _render(self, text: str, rendering: _Rendering) -> None:
        try:
            async for pcm in self._speech.stream(text, self.call.language):
                rendering.chunks.append(pcm)
                rendering.changed.set()
        except IvrError:
            rendering.chunks.clear()  # the call's own speaker will try again and report
            self.audio.pop(text, None)
        finally:
            rendering.done = True
            rendering.changed.set()

    def cancel(self) -> None:
        """The media never came: drop the work."""
        self.reply.cancel()
        for task in list(self._tasks):
            task.cancel()


class PreparedDialogue:
    """The shared dialogue, except that the first ``/call_start`` is already under way."""

    def __init__(self, inner: Dialogue, prepared: PreparedCall) -> None:
        self._inner = inner
        self._prepared: PreparedCall | None = prepared

    async def send(self, sender: str, message: str,
                   metadata: Mapping[str, Any] | None = None) -> DialogueReply:
        prepared, self._prepared = self._prepared, None
        if message == START_MESSAGE and prepared is not None:
            return await prepared.reply
        return await self._inner.send(sender, message, metadata)


class PreparedSpeech:
    """The shared speech, except for the texts of the prepared first turn."""

    def __init__(self, inner: Speech, prepared: PreparedCall) -> None:
        self._inner = inner
        self._prepared = prepared

    async def stream(self, text: str, lang: Language) -> AsyncIterator[Pcm]:
        rendering = self._prepared.audio.pop(text, None)
        if rendering is None:
            async for pcm in self._inner.stream(text, lang):
                yield pcm
            return
        async for pcm in rendering.read():
            yield pcm
