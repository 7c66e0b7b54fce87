"""A language switch asked for mid-call, through the real trained Rasa model and the real action
server that ``ivr serve`` runs, over the IVR's own bridge (the code a call uses).

The caller's side cannot be spoken here: the tiny Vosk test models know no word for a language
("English please", "说英语"; see ../shared/models/README.md), so the recognizer's output is sent
as text. What the IVR does with the reply (voice, recognizer, prompts, the record) is proven by
tests/call/test_controller_language.py and tests/call/test_driver.py."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from ivr.core.types import Expectation, Language
from ivr.dialogue.bridge import DialogueReply, RasaBridge
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

META = {"customer_id": "C-zh-happy", "customer_title": "张先生"}


async def _talk(server: Server, steps: list[tuple[str, str]]) -> list[DialogueReply]:
    sender = f"CA-lang-{uuid.uuid4().hex[:12]}"
    replies = []
    async with aiohttp.ClientSession() as http:
        bridge = RasaBridge(http, server.rasa_url, 60.0, server.env["IVR_RASA_AUTH_TOKEN"])
        for message, lang in steps:
            meta = {**META, "call_sid": sender, "language": lang}
            replies.append(await bridge.send(sender, message, meta))
    return replies


def test_english_please_then_back_to_mandarin(server: Server) -> None:
    start, to_en, yes, to_zh = asyncio.run(_talk(server, [
        ("/call_start", "zh"), ("能说英语吗", "zh"), ("yes", "en"), ("请讲中文", "en")]))
    assert start.turn.language is None and start.turn.expect is Expectation.YES_NO
    # the switch, said in English, then the pending identity question again in English
    assert to_en.turn.language is Language.EN
    assert to_en.turn.expect is Expectation.YES_NO
    assert to_en.turn.utterances[-1].text == "Am I speaking with Mr. Zhang?"  # not 张先生
    assert "English" in to_en.turn.utterances[0].text
    # the conversation goes on in English: the answer is understood, the ID question follows
    assert yes.turn.language is None and yes.turn.expect is Expectation.DIGITS
    assert "last four digits" in yes.turn.utterances[-1].text.lower() or \
        "ID" in yes.turn.utterances[-1].text
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in yes.turn.text)
    # and back: the ID question again, in Mandarin
    assert to_zh.turn.language is Language.ZH
    assert to_zh.turn.expect is Expectation.DIGITS
    assert "身份证" in to_zh.turn.utterances[-1].text
