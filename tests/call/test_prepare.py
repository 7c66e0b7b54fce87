"""The greeting prepared when the call is announced: the first dialogue turn is asked for at
once, its audio synthesized while the media stream opens, and both are used once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ivr.call.model import CallContext
from ivr.call.prepare import PreparedCall, PreparedDialogue, PreparedSpeech
from ivr.core.audio import Pcm
from ivr.core.types import Language
from ivr.dialogue.bridge import DialogueReply
from ivr.dialogue.turns import BotTurn, Utterance

CALL = CallContext("CA-prep", Language.ZH, "C-1", metadata={"customer_title": "张先生"})


class Dialogue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, sender: str, message: str,
                   metadata: Mapping[str, Any] | None = None) -> DialogueReply:
        self.sent.append((message, dict(metadata or {})))
        return DialogueReply(BotTurn((Utterance(f"reply to {message}"),)), 5.0)


class Speech:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def stream(self, text: str, lang: Language) -> AsyncIterator[Pcm]:
        self.texts.append(text)
        for part in (b"\x01\x00", b"\x02\x00"):
            await asyncio.sleep(0)
            yield Pcm(part * 80, 8000)


async def test_first_turn_is_asked_for_at_once_and_used_once() -> None:
    dialogue, speech = Dialogue(), Speech()
    prepared = PreparedCall(CALL, dialogue, speech)
    await asyncio.sleep(0.01)
    assert dialogue.sent == [("/call_start", {"customer_title": "张先生", "call_sid": "CA-prep",
                                              "language": "zh", "customer_id": "C-1"})]
    assert speech.texts == ["reply to /call_start"], "its audio is being made already"
    wrapped = PreparedDialogue(dialogue, prepared)
    first = await wrapped.send("CA-prep", "/call_start", {})
    assert first.turn.text == "reply to /call_start" and len(dialogue.sent) == 1
    await wrapped.send("CA-prep", "/affirm", {})
    assert [m for m, _ in dialogue.sent] == ["/call_start", "/affirm"]


async def test_prepared_audio_is_played_instead_of_synthesized_again() -> None:
    dialogue, speech = Dialogue(), Speech()
    prepared = PreparedCall(CALL, dialogue, speech)
    await prepared.reply
    voice = PreparedSpeech(speech, prepared)
    chunks = [c async for c in voice.stream("reply to /call_start", Language.ZH)]
    assert [c.data[:2] for c in chunks] == [b"\x01\x00", b"\x02\x00"]
    assert speech.texts == ["reply to /call_start"], "not synthesized twice"
    again = [c async for c in voice.stream("reply to /call_start", Language.ZH)]
    assert len(again) == 2 and speech.texts.count("reply to /call_start") == 2


async def test_an_abandoned_preparation_is_cancelled() -> None:
    class Slow(Dialogue):
        async def send(self, sender: str, message: str,
                       metadata: Mapping[str, Any] | None = None) -> DialogueReply:
            await asyncio.sleep(60)
            raise AssertionError("never")

    prepared = PreparedCall(CALL, Slow(), Speech())
    await asyncio.sleep(0)
    prepared.cancel()
    await asyncio.sleep(0)
    assert prepared.reply.cancelled()
