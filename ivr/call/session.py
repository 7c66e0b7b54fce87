"""One phone call: greeting, listen → understand → speak, barge-in, keypad, no-input, hang-up.

The session owns three tasks: inbound audio (VAD/endpointing, cheap, on the loop), paced
playback, and the dialogue loop that handles caller inputs one at a time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from ivr.asr.base import AsrResult
from ivr.call.listener import (
    Listener,
    ListenerEvent,
    ListenMode,
    NoInput,
    SpeechEnded,
    SpeechStarted,
)
from ivr.call.playback import Playback, stop_task
from ivr.call.prompts import PromptBook, SystemPrompt
from ivr.core.audio import Pcm
from ivr.core.errors import DialogueError, ErrorCode, IvrError
from ivr.core.pii import mask_text
from ivr.core.types import CallOutcome, Expectation, Language
from ivr.dialogue.bridge import DialogueReply
from ivr.dialogue.keypad import AGENT, KeypadMapper
from ivr.dialogue.turns import BotTurn, Handoff, Utterance
from ivr.metrics import Metrics
from ivr.store.base import Store
from ivr.store.records import CallEvent, Role, TurnRecord, TurnSource

log = logging.getLogger(__name__)

NO_MATCH_MESSAGE = "/nlu_fallback"
START_MESSAGE = "/call_start"


class Dialogue(Protocol):
    async def send(
        self, sender: str, message: str, metadata: Mapping[str, Any] | None = None
    ) -> DialogueReply: ...


class Speech(Protocol):
    def stream(self, text: str, lang: Language) -> AsyncIterator[Pcm]: ...


class HandoffHandler(Protocol):
    async def handoff(self, session: CallSession, handoff: Handoff) -> None: ...


class State(StrEnum):
    STARTING = "starting"
    THINKING = "thinking"
    SPEAKING = "speaking"
    LISTENING = "listening"
    ON_HOLD = "on_hold"
    ENDED = "ended"


@dataclass(frozen=True)
class CallInfo:
    call_sid: str
    stream_sid: str
    language: Language
    customer_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    outbound: bool = False


@dataclass(frozen=True)
class SessionPolicy:
    barge_in_ms: int = 250
    barge_in_max_ms: int = 700
    no_input_limit: int = 3
    max_call_s: int = 900
    # Outbound calls: greet this long after answer if the callee says nothing first.
    callee_silence_s: float = 1.5


@dataclass(frozen=True, slots=True)
class _Said:
    text: str
    source: str
    last_voiced_wall: float | None = None
    barge_in: bool = False
    confidence: float | None = None
    asr_ms: float | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class _Hangup:
    outcome: CallOutcome | None
    reason: str


_Input = _Said | NoInput | _Hangup


def _now() -> datetime:
    return datetime.now(UTC)


def _keyed(message: str, digit: str) -> str:
    """How a keypad answer appears in the transcript: ``[1]``, ``[0]``, ``[1234]``."""
    if message.startswith("/inform_digits"):
        return "[" + str(json.loads(message.removeprefix("/inform_digits"))["digits"]) + "]"
    return "[0]" if message == AGENT else f"[{digit}]"


def _confidence(result: AsrResult) -> float | None:
    confs = [w.conf for w in result.words if w.word != "[unk]"]
    return round(sum(confs) / len(confs), 3) if confs else None


def _words(text: str) -> str:
    return " ".join(w for w in text.split() if w != "[unk]")


class CallSession:
    """Everything about one call after the provider's ``start`` message."""

    def __init__(
        self,
        info: CallInfo,
        *,
        listener_factory: Callable[[Callable[[ListenerEvent], None]], Listener],
        playback: Playback,
        dialogue: Dialogue,
        speech: Speech,
        store: Store,
        prompts: PromptBook,
        handoff: HandoffHandler,
        policy: SessionPolicy,
        close_media: Callable[[], Awaitable[None]],
        metrics: Metrics | None = None,
        input_queue_size: int = 64,
    ) -> None:
        self._metrics = metrics or Metrics()
        self.info = info
        self.lang = info.language
        self.state = State.STARTING
        self.expect: Expectation | None = None
        self.outcome: CallOutcome | None = None
        self._listener = listener_factory(self._on_listener_event)
        self._playback = playback
        self._dialogue = dialogue
        self._speech = speech
        self._store = store
        self._prompts = prompts
        self._handoff = handoff
        self._policy = policy
        self._close_media = close_media
        self._inputs: asyncio.Queue[_Input] = asyncio.Queue(input_queue_size)
        self._keypad = KeypadMapper()
        self._last_question: tuple[Utterance, ...] = ()
        self._turn_seq = 0
        self._first_frame: dict[int, float] = {}
        self._first_frame_event: dict[int, asyncio.Event] = {}
        self._no_input = 0
        self._barged = False
        self._tasks: list[asyncio.Task[None]] = []
        self._ended = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._callee_spoke: asyncio.Event | None = None
        self._callee_done: asyncio.Event | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._hung_up = False
        self.shutting_down = False
        self.latencies_ms: list[float] = []

    # ---- lifecycle -----------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.state is State.ENDED

    @property
    def listener(self) -> Listener:
        return self._listener

    def first_frame_sent(self, turn: int, at: float) -> None:
        self._first_frame[turn] = at
        event = self._first_frame_event.get(turn)
        if event is not None:
            event.set()

    async def run(self) -> None:
        """Run the call until it ends; always leaves the record finished."""
        self._tasks = [
            asyncio.create_task(self._playback.run(), name=f"playback-{self.info.call_sid}"),
            asyncio.create_task(self._max_duration(), name=f"timer-{self.info.call_sid}"),
        ]
        self._main = asyncio.create_task(self._converse(), name=f"call-{self.info.call_sid}")
        try:
            await self._main
        except asyncio.CancelledError:
            if not self._hung_up:
                raise
        except Exception as exc:
            log.exception("call %s failed", self.info.call_sid)
            await self._record_error(exc)
            self.outcome = self.outcome or CallOutcome.FAILED
        finally:
            await self._finish()

    async def _converse(self) -> None:
        if self.info.outbound:
            await self._await_callee()
        await self._respond(START_MESSAGE, caller=None)
        while not self.ended:
            await self._wait_playback()
            if self.ended:
                break
            item = await self._inputs.get()
            if isinstance(item, _Hangup):
                self.outcome = self.outcome or item.outcome
                break
            if isinstance(item, NoInput):
                await self._on_no_input()
                continue
            self._no_input = 0
            await self._respond(item.message or item.text, caller=item)

    async def _await_callee(self) -> None:
        """Outbound: greet after the callee's first words ("喂?") or a short silence."""
        self._callee_spoke = asyncio.Event()
        self._callee_done = asyncio.Event()
        self.state = State.LISTENING
        self._listener.set_mode(ListenMode.LISTEN)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._callee_spoke.wait(), self._policy.callee_silence_s)
            await asyncio.wait_for(self._callee_done.wait(), 5.0)
        self._callee_spoke = self._callee_done = None
        self._ignore()

    async def _wait_playback(self) -> None:
        """Let the bot finish speaking, then listen for the answer."""
        if self.state is State.ENDED:
            return
        await self._playback.wait_idle()
        if self.state is State.SPEAKING:
            self.state = State.LISTENING
            self._listener.set_mode(ListenMode.LISTEN, arm_no_input=self._inputs.empty())

    async def _max_duration(self) -> None:
        await asyncio.sleep(self._policy.max_call_s)
        log.warning("call %s reached the maximum duration", self.info.call_sid)
        self._put(_Hangup(CallOutcome.ABANDONED, "max_duration"))

    def caller_hung_up(self) -> None:
        """The provider stopped the stream (caller hung up, or the call left the bot)."""
        if self.state is State.ENDED or self._hung_up:
            return
        self._hung_up = True
        log.info("call %s: stream stopped by the provider in state %s", self.info.call_sid,
                 self.state.value)
        if self._main is not None:
            self._main.cancel()

    def shutdown(self) -> None:
        """The IVR is stopping: end the call without blaming the caller."""
        self.shutting_down = True
        self.caller_hung_up()

    def _ignore(self) -> None:
        """Stop listening (bot thinking or speaking a prompt that must not be cut)."""
        stream = self._listener.drop_stream()
        if stream is not None:
            self._spawn(stream.cancel())
        self._listener.set_mode(ListenMode.IGNORE)

    async def _finish(self) -> None:
        self.state = State.ENDED
        self._metrics.playback_frames += self._playback.stats.frames_sent
        self._metrics.playback_frames_late += self._playback.stats.frames_late
        for task in self._tasks:
            await stop_task(task)
        stream = self._listener.drop_stream()
        if stream is not None:
            await stream.cancel()
        if self.shutting_down and self.outcome is None:
            await self._safe(self._store.update_call(self.info.call_sid, error_code="shutdown"))
        outcome = self.outcome or (
            CallOutcome.ABANDONED if self._hung_up and not self.shutting_down
            else CallOutcome.FAILED
        )
        await self._safe(
            self._store.update_call(self.info.call_sid, outcome=outcome, ended_at=_now())
        )
        with contextlib.suppress(Exception):
            await self._close_media()
        self._ended.set()

    async def wait_ended(self) -> None:
        await self._ended.wait()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Fire-and-forget work of this call, kept referenced until done."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- inbound from the provider socket -----------------------------------------------

    def on_media(self, ulaw: bytes) -> None:
        self._listener.push_ulaw(ulaw)
        if self._listener.mode is ListenMode.BARGE and self._listener.in_speech:
            self._check_barge_in()

    def on_mark(self, name: str) -> None:
        self._playback.on_mark(name)

    def on_dtmf(self, digit: str) -> None:
        if self.state is State.ENDED:
            return
        self._spawn(self._safe(self._event("dtmf", "", {"digit": digit})))
        if self.state is State.SPEAKING and self._playback.interruptible:
            self._barge_in(reason="dtmf")
        if self.state is State.THINKING and digit != "0":
            return
        if self.state is State.ON_HOLD:
            return
        message = self._keypad.press(digit, self.expect)
        if message is not None:
            self._put(_Said(_keyed(message, digit), "dtmf", message=message))

    # ---- listener events -----------------------------------------------------------------

    def _on_listener_event(self, event: ListenerEvent) -> None:
        if self._callee_spoke is not None and self._callee_done is not None:
            if isinstance(event, SpeechStarted):
                self._callee_spoke.set()
            elif isinstance(event, SpeechEnded):
                if event.stream is not None:
                    self._spawn(event.stream.cancel())
                self._callee_done.set()
            return
        if isinstance(event, SpeechStarted):
            return
        if isinstance(event, NoInput):
            if self.state is State.LISTENING:
                self._put(event)
            return
        if self._listener.mode is ListenMode.BARGE and not self._barged:
            if event.stream is not None:
                self._spawn(event.stream.cancel())
            return
        barge, self._barged = self._barged, False
        self._spawn(self._finish_utterance(event, barge))

    def _check_barge_in(self) -> None:
        stream = self._listener.stream
        heard = bool(stream is not None and _words(stream.partial))
        long_enough = self._listener.speech_ms >= self._policy.barge_in_ms
        if (heard and long_enough) or self._listener.speech_ms >= self._policy.barge_in_max_ms:
            self._barge_in(reason="speech")

    def _barge_in(self, *, reason: str) -> None:
        if not self._playback.interruptible or self.state is not State.SPEAKING:
            return
        self._barged = reason == "speech"
        self.state = State.LISTENING
        self._listener.set_mode(ListenMode.LISTEN)
        self._spawn(self._playback.interrupt())
        self._metrics.barge_ins += 1
        self._spawn(self._safe(self._store.increment(self.info.call_sid, "barge_ins")))
        log.info("call %s: barge-in (%s)", self.info.call_sid, reason)

    async def _finish_utterance(self, event: SpeechEnded, barge: bool) -> None:
        if event.stream is None:
            return
        started = time.perf_counter()
        try:
            result = await event.stream.finish()
        except IvrError as exc:
            await self._record_error(exc)
            return
        asr_ms = (time.perf_counter() - started) * 1000
        text = _words(result.text)
        if self.state is not State.LISTENING:
            return
        # Nothing usable heard: the dialogue decides (rephrase, keypad hint, escalate) and
        # reports the no-match back as an event, which is what gets counted.
        message = text if text else NO_MATCH_MESSAGE
        self._ignore()
        self.state = State.THINKING
        self._put(
            _Said(
                result.text.strip() or "[unk]",
                "speech",
                last_voiced_wall=event.last_voiced_wall,
                barge_in=barge,
                confidence=_confidence(result),
                asr_ms=asr_ms,
                message=message,
            )
        )

    def _put(self, item: _Input) -> None:
        try:
            self._inputs.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("call %s: input queue full, dropping %s", self.info.call_sid, item)

    # ---- turns ---------------------------------------------------------------------------

    def _metadata(self) -> dict[str, str]:
        meta = dict(self.info.metadata)
        meta.update(call_sid=self.info.call_sid, language=self.lang.value)
        if self.info.customer_id:
            meta["customer_id"] = self.info.customer_id
        return meta

    async def _respond(self, message: str, *, caller: _Said | None) -> None:
        self.state = State.THINKING
        self._ignore()
        self._keypad.reset()
        if caller is not None:
            await self._store_turn(Role.CALLER, caller.text, TurnSource(caller.source),
                                   caller=caller)
        try:
            reply = await self._dialogue.send(self.info.call_sid, message, {
                **self._metadata(),  # + the recognizer's mean word confidence (not for keypad)
                **({"asr_confidence": caller.confidence} if caller and caller.confidence is not None
                   and caller.source == "speech" else {})})
        except DialogueError as exc:
            await self._record_error(exc)
            await self._speak_system(SystemPrompt.TECHNICAL_ERROR)
            await self._end(CallOutcome.FAILED)
            return
        turn = reply.turn
        await self._event("bot_reply", "", {"messages": list(turn.raw)})
        for event in turn.events:
            if event.get("no_match"):
                await self._safe(self._store.increment(self.info.call_sid, "no_match"))
        if turn.utterances and turn.expect is not None:
            # What a reprompt repeats: the question itself, not the lead-in before it.
            self._last_question = turn.utterances[-1:]
        self.expect = turn.expect
        seq = await self._speak(turn.utterances, caller=caller, dialogue_ms=reply.elapsed_ms,
                                turn=turn)
        if turn.handoff is not None:
            await self._event("handoff", turn.handoff.reason,
                              {"priority": turn.handoff.priority.value})
            await self._safe(self._store.update_call(
                self.info.call_sid,
                escalation_reason=turn.handoff.reason,
                escalation_priority=turn.handoff.priority.value,
            ))
            await self._playback.wait_idle()
            await self._handoff.handoff(self, turn.handoff)
        elif turn.hangup is not None:
            await self._end(turn.hangup.outcome)
        elif seq is None:
            log.warning("call %s: the dialogue said nothing", self.info.call_sid)

    async def _speak(
        self,
        utterances: tuple[Utterance, ...],
        *,
        caller: _Said | None = None,
        dialogue_ms: float | None = None,
        turn: BotTurn | None = None,
    ) -> int | None:
        if not utterances:
            return None
        self._turn_seq += 1
        seq = self._turn_seq
        first = asyncio.Event()
        self._first_frame_event[seq] = first
        self.state = State.SPEAKING
        interruptible = all(not u.uninterruptible for u in utterances)
        if interruptible:
            self._listener.set_mode(ListenMode.BARGE)
        else:
            self._ignore()
        tts_started = time.perf_counter()
        tts_ms: float | None = None
        for utt in utterances:
            async for pcm in self._speech.stream(utt.text, self.lang):
                if tts_ms is None:
                    tts_ms = (time.perf_counter() - tts_started) * 1000
                if self.state is not State.SPEAKING:
                    break
                await self._playback.enqueue_audio(
                    pcm.data, interruptible=not utt.uninterruptible, turn=seq
                )
            if self.state is not State.SPEAKING:
                break
            await self._playback.enqueue_mark(interruptible=not utt.uninterruptible)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first.wait(), timeout=2.0)
        self._first_frame_event.pop(seq, None)
        latency: float | None = None
        sent = self._first_frame.get(seq)
        if caller is not None and caller.last_voiced_wall is not None and sent is not None:
            latency = (sent - caller.last_voiced_wall) * 1000
            self.latencies_ms.append(latency)
            self._metrics.turn_latency_ms.append(latency)
        text = " ".join(u.text for u in utterances)
        await self._store_turn(
            Role.BOT, text, TurnSource.SYSTEM if turn is None else TurnSource.DIALOGUE,
            dialogue_ms=dialogue_ms, tts_ms=tts_ms, latency_ms=latency,
        )
        return seq

    async def _speak_system(self, prompt: SystemPrompt) -> None:
        text = self._prompts.text(prompt, self.lang)
        try:
            await self._speak((Utterance(text),))
            await self._playback.wait_idle()
        except IvrError as exc:
            await self._record_error(exc)

    async def _on_no_input(self) -> None:
        self._no_input += 1
        await self._safe(self._store.increment(self.info.call_sid, "no_input"))
        await self._event("no_input", "", {"count": self._no_input})
        if self._no_input >= self._policy.no_input_limit:
            await self._speak_system(SystemPrompt.NO_INPUT_GOODBYE)
            await self._end(CallOutcome.ABANDONED)
            return
        question = self._last_question
        if self._no_input >= 2:
            still = Utterance(self._prompts.text(SystemPrompt.STILL_THERE, self.lang))
            question = (still, *question)
        await self._speak(question)

    async def _end(self, outcome: CallOutcome) -> None:
        """Let the caller hear the last words, then hang up."""
        self.outcome = self.outcome or outcome
        self._ignore()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._playback.wait_idle(), timeout=30)
        self.state = State.ENDED
        await self._event("hangup", outcome.value, {})

    # ---- primitives for handoff handlers (hold, announcements, transfer) ------------------

    async def end_for_handoff(self, outcome: CallOutcome, prompt: SystemPrompt | None) -> None:
        """Finish the bot's part of the call, optionally after a last system prompt."""
        if prompt is not None:
            await self._speak_system(prompt)
        await self._end(outcome)

    def hold(self) -> None:
        """On hold: the caller is not listened to (hold music must never be transcribed)."""
        self.state = State.ON_HOLD
        self._ignore()

    async def say(self, text: str, *, wait: bool = True) -> None:
        """Speak a text that is not part of the dialogue (queue position, transfer notices)."""
        state = self.state
        await self._speak((Utterance(text, uninterruptible=True),))
        if wait:
            await self._playback.wait_idle()
        self.state = state

    async def play(self, pcm: bytes) -> None:
        """Queue raw 8 kHz audio (hold music) behind what is already playing."""
        await self._playback.enqueue_audio(pcm, interruptible=False, turn=0)
        await self._playback.enqueue_mark(interruptible=False)

    @property
    def playing(self) -> bool:
        return self._playback.speaking

    async def stop_audio(self) -> None:
        if self._playback.speaking:
            await self._playback.interrupt()

    async def record(self, **details: Any) -> None:
        """Merge facts into the call record's details (e.g. queue wait, agent)."""
        await self._safe(self._store.update_call(self.info.call_sid, details=details))

    async def event(self, kind: str, code: str, detail: dict[str, Any]) -> None:
        await self._event(kind, code, detail)

    # ---- records -------------------------------------------------------------------------

    async def _store_turn(
        self,
        role: Role,
        text: str,
        source: TurnSource,
        *,
        caller: _Said | None = None,
        dialogue_ms: float | None = None,
        tts_ms: float | None = None,
        latency_ms: float | None = None,
    ) -> None:
        now = _now()
        turn = TurnRecord(
            call_sid=self.info.call_sid,
            role=role,
            text=mask_text(text),
            source=source,
            expectation=self.expect,
            started_at=now,
            ended_at=now,
            asr_ms=caller.asr_ms if caller else None,
            dialogue_ms=dialogue_ms,
            tts_ms=tts_ms,
            latency_ms=latency_ms,
            barge_in=bool(caller and caller.barge_in),
            interrupted=False,
            confidence=caller.confidence if caller else None,
        )
        await self._safe(self._store.add_turn(turn))
        if role is Role.CALLER:
            await self._safe(self._store.increment(self.info.call_sid, "turns"))

    async def _event(self, kind: str, code: str, detail: dict[str, Any]) -> None:
        await self._safe(self._store.add_event(
            CallEvent(call_sid=self.info.call_sid, at=_now(), kind=kind, code=code, detail=detail)
        ))

    async def _record_error(self, exc: BaseException) -> None:
        code = exc.code.value if isinstance(exc, IvrError) else ErrorCode.ASR_FAILED.value
        if not isinstance(exc, IvrError):
            code = "internal_error"
        log.warning("call %s: %s", self.info.call_sid, exc)
        await self._event("error", code, {"message": str(exc)[:300]})
        await self._safe(self._store.update_call(self.info.call_sid, error_code=code))

    async def _safe(self, op: Awaitable[Any]) -> None:
        """Store failures are logged, never allowed to break the call."""
        try:
            await op
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call %s: store write failed", self.info.call_sid)
