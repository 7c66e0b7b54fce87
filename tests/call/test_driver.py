"""The call driver over an in-memory media channel, with the real SQLite store: a whole small
call, and the ways a call can break (playback crash, store failure, hang-up on hold, shutdown)
— the record always gets its outcome and ``ended_at``, and nothing hangs."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ivr.agents.availability import AgentHours, Availability
from ivr.agents.handoff import AGENT_UNAVAILABLE, QueueHandoff
from ivr.agents.queue import AgentQueue
from ivr.audio.endpoint import EndpointConfig
from ivr.call.clock import LoopClock
from ivr.call.driver import CallDriver
from ivr.call.factory import DriverFactory
from ivr.call.identity import IdentityOutcome
from ivr.call.model import CallContext
from ivr.call.parts import CallParts
from ivr.call.policy import CallPolicy
from ivr.call.prompts import load_prompts
from ivr.core.audio import Pcm
from ivr.core.errors import AsrError, DialogueError, ErrorCode
from ivr.core.types import CallOutcome, Expectation, Language
from ivr.customers.identity import IdOutcome, IdVerdict
from ivr.dialogue.bridge import DialogueReply
from ivr.dialogue.turns import BotTurn, Handoff, Hangup, Utterance
from ivr.metrics import Metrics
from ivr.store.agents import SqliteAgentStore
from ivr.store.records import CallRecord, Role
from ivr.store.sqlite import SqliteCallStore
from ivr.telephony.provider import (
    AudioIn,
    DigitIn,
    MediaEvent,
    MediaStart,
    StreamEnded,
    WireProblem,
)

RATE = 8000
SILENCE = bytes(320)


@dataclass
class MemoryChannel:
    """A media channel in memory: the test pushes caller events, the bot's frames are kept."""

    inbound: asyncio.Queue[MediaEvent] = field(default_factory=asyncio.Queue)
    frames: list[bytes] = field(default_factory=list)
    clears: int = 0
    closed: bool = False
    fail_send: bool = False
    provider: str = "memory"
    sent: asyncio.Event = field(default_factory=asyncio.Event)

    async def played(self, n: int) -> None:
        """Wait until the bot has sent ``n`` frames."""
        while len(self.frames) < n:
            self.sent.clear()
            await self.sent.wait()

    async def start(self) -> MediaStart:
        return MediaStart("CA-driver", RATE, 20)

    async def events(self) -> AsyncIterator[MediaEvent]:
        while True:
            event = await self.inbound.get()
            yield event
            if isinstance(event, StreamEnded):
                return

    async def send_audio(self, pcm: bytes) -> None:
        if self.fail_send:
            raise RuntimeError("socket exploded")
        self.frames.append(pcm)
        self.sent.set()

    async def clear(self) -> None:
        self.clears += 1

    async def close(self) -> None:
        self.closed = True
        self.inbound.put_nowait(StreamEnded("closed"))


class ScriptDialogue:
    def __init__(self, reply: Callable[[str], BotTurn]) -> None:
        self.reply = reply
        self.sent: list[str] = []

    async def send(self, sender: str, message: str,
                   metadata: Mapping[str, Any] | None = None) -> DialogueReply:
        self.sent.append(message)
        turn = self.reply(message)
        return DialogueReply(turn, 1.0)


class ToneSpeech:
    """100 ms of tone per utterance, already at the channel's rate."""

    async def stream(self, text: str, lang: Language) -> AsyncIterator[Pcm]:
        yield Pcm(struct.pack("<h", 500) * (RATE // 10), RATE)


class NoEngine:
    def open_stream(self, *args: object) -> Any:
        raise AssertionError("no speech in these calls")


class MatchVerifier:
    """The ID check's answer for this customer's ID (the real one: ``ivr.call.id_check``)."""

    async def verify(self, call: Any, digits: str,
                     confidence: float | None) -> IdentityOutcome:
        ok = digits == "1234"
        verdict = IdVerdict(IdOutcome.VERIFIED if ok else IdOutcome.MISMATCH, 2)
        return IdentityOutcome(verdict.message(), ok)


class NoHandoff:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def handoff(self, call: Any, handoff: Handoff) -> None:
        self.started.set()
        await asyncio.Event().wait()  # the caller waits on hold forever


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCallStore]:
    async with await SqliteCallStore.open(tmp_path / "calls.sqlite3") as s:
        yield s


def driver_for(store: Any, channel: MemoryChannel, dialogue: ScriptDialogue,
               handoff: Any = None) -> CallDriver:
    parts = CallParts(store=store, verifier=MatchVerifier(), handoff=handoff or NoHandoff(),
                      prompts=load_prompts(), metrics=Metrics(), clock=LoopClock())
    factory = DriverFactory(parts=parts, engine=NoEngine(), executor=None,  # type: ignore[arg-type]
                            dialogue=dialogue, speech=ToneSpeech(),
                            policy=CallPolicy(no_input_s=30), endpoint=EndpointConfig(),
                            vad_aggressiveness=2)
    call = CallContext("CA-driver", Language.ZH, "C-1")
    return factory(call, channel, MediaStart("CA-driver", RATE, 20))


async def feed_silence(channel: MemoryChannel, stop: asyncio.Event) -> None:
    while not stop.is_set():
        channel.inbound.put_nowait(AudioIn(SILENCE))
        await asyncio.sleep(0.02)


async def run(store: SqliteCallStore, driver: CallDriver, channel: MemoryChannel,
              actions: Callable[[], Any] | None = None) -> CallRecord:
    await store.create_call(CallRecord(call_sid="CA-driver"))
    stop = asyncio.Event()
    feeder = asyncio.create_task(feed_silence(channel, stop))
    task = asyncio.create_task(driver.run())
    if actions is not None:
        await actions()
    await asyncio.wait_for(task, 10)
    stop.set()
    await feeder
    record = await store.get_call("CA-driver")
    assert record is not None and record.ended_at is not None
    return record


async def test_a_keyed_call_runs_to_its_end(store: SqliteCallStore) -> None:
    def reply(message: str) -> BotTurn:
        if message == "/call_start":
            return BotTurn((Utterance("请问是张先生吗?"),), Expectation.YES_NO)
        return BotTurn((Utterance("好的,再见。"),), hangup=Hangup(CallOutcome.COMPLETED))

    channel, dialogue = MemoryChannel(), ScriptDialogue(reply)
    driver = driver_for(store, channel, dialogue)

    async def press() -> None:
        await channel.played(5)
        await asyncio.sleep(0.2)
        channel.inbound.put_nowait(DigitIn("1"))

    record = await run(store, driver, channel, press)
    assert record.outcome is CallOutcome.COMPLETED
    assert dialogue.sent == ["/call_start", "/affirm"]
    turns = await store.get_turns("CA-driver")
    assert [(t.role, t.text) for t in turns] == [
        (Role.BOT, "请问是张先生吗?"), (Role.CALLER, "[1]"), (Role.BOT, "好的,再见。")]
    assert len(channel.frames) >= 10 and all(len(f) == 320 for f in channel.frames)
    assert channel.closed
    assert record.turns == 1


async def test_a_crashed_playback_still_finishes_the_record(store: SqliteCallStore) -> None:
    channel = MemoryChannel(fail_send=True)
    dialogue = ScriptDialogue(lambda m: BotTurn((Utterance("您好"),), Expectation.YES_NO))
    record = await run(store, driver_for(store, channel, dialogue), channel)
    assert record.outcome is CallOutcome.FAILED
    assert record.error_code == "internal_error"
    events = await store.get_events("CA-driver")
    assert any(e.kind == "error" and e.code == "internal_error" for e in events)


async def test_a_failing_store_never_breaks_the_call(store: SqliteCallStore) -> None:
    real_add_turn = store.add_turn

    async def broken(*args: Any) -> int:
        raise OSError("disk full")

    store.add_turn = broken  # type: ignore[method-assign]
    channel = MemoryChannel()
    dialogue = ScriptDialogue(lambda m: BotTurn((Utterance("再见"),), hangup=Hangup()))
    record = await run(store, driver_for(store, channel, dialogue), channel)
    store.add_turn = real_add_turn  # type: ignore[method-assign]
    assert record.outcome is CallOutcome.COMPLETED


async def test_hanging_up_on_hold_ends_the_handoff(store: SqliteCallStore) -> None:
    hold = NoHandoff()
    channel = MemoryChannel()
    dialogue = ScriptDialogue(lambda m: BotTurn((Utterance("正在为您转接"),),
                                                handoff=Handoff("agent_request")))
    driver = driver_for(store, channel, dialogue, hold)

    async def hang_up() -> None:
        await asyncio.wait_for(hold.started.wait(), 5)
        channel.inbound.put_nowait(StreamEnded("stop"))

    record = await run(store, driver, channel, hang_up)
    assert record.outcome is CallOutcome.ABANDONED
    assert record.escalation_reason == "agent_request"


async def test_shutdown_ends_at_once(store: SqliteCallStore) -> None:
    channel = MemoryChannel()
    dialogue = ScriptDialogue(lambda m: BotTurn((Utterance("您好," * 50),), Expectation.OPEN))
    driver = driver_for(store, channel, dialogue)

    async def stop() -> None:
        await channel.played(1)
        driver.shutdown()

    record = await run(store, driver, channel, stop)
    assert record.outcome is CallOutcome.FAILED and record.error_code == "shutdown"


async def test_the_dialogue_failing_apologises_and_fails(store: SqliteCallStore) -> None:
    class Down(ScriptDialogue):
        async def send(self, sender: str, message: str,
                       metadata: Mapping[str, Any] | None = None) -> DialogueReply:
            raise DialogueError("down", code=ErrorCode.DIALOGUE_UNAVAILABLE)

    channel = MemoryChannel()
    record = await run(store, driver_for(store, channel, Down(lambda m: BotTurn())), channel)
    assert record.outcome is CallOutcome.FAILED
    assert record.error_code == "dialogue_unavailable"
    assert channel.frames, "the apology was played"


async def test_a_flood_of_bad_frames_is_counted_but_recorded_only_a_few_times(
        store: SqliteCallStore) -> None:
    channel = MemoryChannel()
    dialogue = ScriptDialogue(lambda m: BotTurn((Utterance("您好"),), Expectation.YES_NO))
    driver = driver_for(store, channel, dialogue)

    async def flood() -> None:
        await channel.played(1)
        for n in range(40):
            channel.inbound.put_nowait(WireProblem("wire_malformed", f"bad frame {n}"))
        channel.inbound.put_nowait(StreamEnded("stop"))

    record = await run(store, driver, channel, flood)
    assert record.wire_errors == 40 and record.outcome is CallOutcome.ABANDONED
    events = [e for e in await store.get_events("CA-driver") if e.kind == "wire_error"]
    assert [e.code for e in events] == ["wire_malformed"] * 5 + ["not_recorded"]
    assert events[-1].detail == {"count": 35}


async def test_no_agent_the_real_handoff_sends_the_call_back_to_the_dialogue(
        store: SqliteCallStore, tmp_path: Path) -> None:
    """QueueHandoff with nobody logged in, through the real driver and handle: the no_agent
    notice plays, the dialogue gets /agent_unavailable and the call goes on to its end."""
    def reply(message: str) -> BotTurn:
        if message == "/call_start":
            return BotTurn((Utterance("正在为您转接"),), handoff=Handoff("agent_request"))
        if message == AGENT_UNAVAILABLE:
            return BotTurn((Utterance("我们可以安排人工客服给您回电。"),),
                           hangup=Hangup(CallOutcome.ESCALATED))
        raise AssertionError(message)

    async with await SqliteAgentStore.open(tmp_path / "agents.sqlite3") as agents:
        handoff = QueueHandoff(
            AgentQueue(agents), None, store, None, load_prompts(), b"", max_wait_s=60.0,
            transfer_timeout_s=5.0, availability=Availability(agents.list_agents, AgentHours()))
        channel, dialogue = MemoryChannel(), ScriptDialogue(reply)
        record = await run(store, driver_for(store, channel, dialogue, handoff), channel)
        assert await agents.waiting() == []
    assert dialogue.sent == ["/call_start", AGENT_UNAVAILABLE]
    assert record.outcome is CallOutcome.ESCALATED
    assert record.details["queue_result"] == "no_agent"
    events = await store.get_events("CA-driver")
    assert [e.code for e in events if e.kind == "no_agent"] == ["no_agent_logged_in"]
    bot = [t.text for t in await store.get_turns("CA-driver") if t.role is Role.BOT]
    assert bot[-1] == "我们可以安排人工客服给您回电。"


class LangSpeech(ToneSpeech):
    """Tone speech that remembers the language of every text it was asked to say."""

    def __init__(self) -> None:
        self.said: list[tuple[str, Language]] = []

    async def stream(self, text: str, lang: Language) -> AsyncIterator[Pcm]:
        self.said.append((text, lang))
        async for pcm in super().stream(text, lang):
            yield pcm


class MetaDialogue(ScriptDialogue):
    def __init__(self, reply: Callable[[str], BotTurn]) -> None:
        super().__init__(reply)
        self.languages: list[str] = []

    async def send(self, sender: str, message: str,
                   metadata: Mapping[str, Any] | None = None) -> DialogueReply:
        self.languages.append(str((metadata or {}).get("language")))
        return await super().send(sender, message, metadata)


class LangEngine:
    """Records the language each recognizer stream is opened for."""

    def __init__(self) -> None:
        self.opened: list[Language] = []

    def open_stream(self, lang: Language, expect: Expectation, rate: int) -> Any:
        self.opened.append(lang)
        raise RuntimeError("not needed past opening")


async def test_a_language_switch_changes_voice_recognizer_dialogue_and_record(
        store: SqliteCallStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def reply(message: str) -> BotTurn:
        if message == "/call_start":
            return BotTurn((Utterance("请问是张先生吗?"),), Expectation.YES_NO)
        if message == "/affirm" and len(dialogue.sent) == 2:  # stands for "English please"
            return BotTurn((Utterance("Sure, in English."), Utterance("Is this Mr. Zhang?")),
                           Expectation.YES_NO, language=Language.EN)
        return BotTurn((Utterance("Goodbye."),), hangup=Hangup(CallOutcome.COMPLETED))

    channel, dialogue, speech = MemoryChannel(), MetaDialogue(reply), LangSpeech()
    engine = LangEngine()
    parts = CallParts(store=store, verifier=MatchVerifier(), handoff=NoHandoff(),
                      prompts=load_prompts(), metrics=Metrics(), clock=LoopClock())
    with ThreadPoolExecutor(1) as pool:
        factory = DriverFactory(parts=parts, engine=engine, executor=pool,  # type: ignore[arg-type]
                                dialogue=dialogue, speech=speech,
                                policy=CallPolicy(no_input_s=30), endpoint=EndpointConfig(),
                                vad_aggressiveness=2)
        driver = factory(CallContext("CA-driver", Language.ZH, "C-1"), channel,
                         MediaStart("CA-driver", RATE, 20))

        async def press_twice() -> None:
            for frames in (5, 15):
                await channel.played(frames)
                await asyncio.sleep(0.3)
                channel.inbound.put_nowait(DigitIn("1"))

        record = await run(store, driver, channel, press_twice)
        # what the recognizer is opened with from now on (the listener opens it at speech)
        stream = driver.media.listener._open_stream(Expectation.YES_NO, lambda _t: None)
        with pytest.raises(AsrError):
            await stream.finish()
    assert record.outcome is CallOutcome.COMPLETED
    assert speech.said == [("请问是张先生吗?", Language.ZH), ("Sure, in English.", Language.EN),
                           ("Is this Mr. Zhang?", Language.EN), ("Goodbye.", Language.EN)]
    assert dialogue.languages == ["zh", "zh", "en"]
    assert engine.opened == [Language.EN]
    assert record.language is Language.EN
    events = await store.get_events("CA-driver")
    assert [(e.kind, e.code) for e in events if e.kind == "language_switch"] == \
        [("language_switch", "en")]
    assert driver.handle.lang is Language.EN  # queue prompts after a handoff too
