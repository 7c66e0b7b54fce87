"""The thin async driver of one call: feeds the controller, executes its commands against the
media channel, the listener, the playback, the dialogue, the identity verifier, the agent
handoff and the store, and owns every task of the call in one task group. The controller's
``EndCall`` marks the call ended first; ``ivr.call.teardown`` then ends it step by step."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Coroutine
from typing import Any

from ivr.call import commands as c
from ivr.call import events as e
from ivr.call.controller import CallController
from ivr.call.handle import DriverHandle
from ivr.call.model import CallContext, Timer
from ivr.call.parts import CallMedia, CallParts
from ivr.call.teardown import RECORDED_WIRE_ERRORS, teardown, write_end
from ivr.core.errors import DialogueError
from ivr.core.types import CallOutcome
from ivr.store.records import Counter
from ivr.telephony.provider import AudioIn, DigitIn, StreamEnded, WireProblem

log = logging.getLogger(__name__)

STEP_TIMEOUT_S = 5.0


class CallDriver:
    def __init__(self, call: CallContext, controller: CallController, parts: CallParts,
                 media: CallMedia) -> None:
        self.call = call
        self.ctrl = controller
        self.parts = parts
        self.media = media
        self.clock = parts.clock
        self.recorder = media.recorder
        self.handle = DriverHandle(self)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.timers: dict[Timer, asyncio.Task[None]] = {}
        self.handoff_task: asyncio.Task[None] | None = None
        self.speaking: set[asyncio.Task[None]] = set()
        self.wire_errors = 0
        self._pending: list[e.CallEvent] = []
        self._feeding = False
        self.end: c.EndCall | None = None
        self._ending = asyncio.Event()
        self._ended = asyncio.Event()
        self.stream_over = asyncio.Event()
        media.attach(self._on_media_event)

    @property
    def ended(self) -> bool:
        return self.end is not None

    def cancel_timers(self) -> None:
        for timer in list(self.timers):
            self._cancel_timer(timer)

    # ---- running ---------------------------------------------------------------------

    async def run(self) -> None:
        """Run the call until it ends; always leaves the record finished."""
        finished = False
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self.spawn(self._guard("inbound", self._inbound()))
                self.spawn(self._guard("playback", self.media.playback.run()))
                self.spawn(self._guard("recorder", self.recorder.run()))
                self.feed(e.CallStarted(self.clock.now(), self.call))
                await self._ending.wait()
                await teardown(self)
                finished = True
                for task in list(self._tasks):
                    task.cancel()
        finally:
            if not finished:  # cancelled from outside, or the driver itself broke
                self.end = self.end or c.EndCall(CallOutcome.FAILED, "driver", False,
                                                   "internal_error")
                with contextlib.suppress(Exception):
                    await asyncio.shield(write_end(self, direct=True))
            self._ended.set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = self._group.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, name: str, coro: Coroutine[Any, Any, Any]) -> None:
        """A task of the call: its crash ends the call as failed, never the process."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("call %s: %s failed", self.call.call_id, name)
            self.recorder.event("error", "internal_error",
                                {"part": name, "message": str(exc)[:200]})
            self.feed(e.Crashed(self.clock.now(), name))

    async def _inbound(self) -> None:
        """The provider's stream: caller audio to the listener, keys and the end to the
        controller, wire problems to the record."""
        reason, error = "stream_ended", None
        try:
            async for event in self.media.channel.events():
                match event:
                    case AudioIn():
                        self.media.listener.push(event.pcm)
                    case DigitIn():
                        self.feed(e.DigitPressed(self.clock.now(), event.digit))
                    case WireProblem():
                        self._wire_problem(event)
                    case StreamEnded():
                        reason, error = event.reason, event.error
                        break
        finally:
            self.stream_over.set()
            self.feed(e.HungUp(self.clock.now(), reason, error))

    def _wire_problem(self, problem: WireProblem) -> None:
        """Counted; only the first few are worth an event each (a summary follows at the end:
        a flood of bad frames must not become a flood of writes)."""
        self.parts.metrics.wire_errors += 1
        self.wire_errors += 1
        if self.wire_errors <= RECORDED_WIRE_ERRORS:
            self.recorder.event("wire_error", problem.code, {"message": problem.message[:200]})

    def shutdown(self) -> None:
        self.feed(e.Shutdown(self.clock.now()))

    async def wait_ended(self) -> None:
        await self._ended.wait()

    # ---- the controller --------------------------------------------------------------

    def feed(self, event: e.CallEvent) -> None:
        """Apply an event; events raised while executing commands are applied after."""
        self._pending.append(event)
        if self._feeding:
            return
        self._feeding = True
        try:
            while self._pending:
                event = self._pending.pop(0)
                try:
                    commands = self.ctrl.handle(event)
                except Exception:
                    log.exception("call %s: controller failed on %s", self.call.call_id,
                                  type(event).__name__)
                    commands = [] if self.ended else [c.EndCall(
                        CallOutcome.FAILED, "internal_error", False, "internal_error")]
                for command in commands:
                    self._execute(command)
        finally:
            self._feeding = False

    def _on_media_event(self, event: e.CallEvent) -> None:
        if isinstance(event, e.AudioStarted):
            event = e.AudioStarted(event.at, event.seq,
                                   self.media.speaker.first_ms.pop(event.seq, None))
        if isinstance(event, e.AudioStarted | e.AudioFinished) and event.seq < 0:
            self.handle.audio_event(event)
            return
        self.feed(event)

    def _execute(self, cmd: c.Command) -> None:
        media = self.media
        match cmd:
            case c.Listen():
                for stream in media.listener.set_mode(cmd.mode, cmd.expect, cmd.end_silence_ms):
                    self.spawn(stream.cancel())
            case c.Speak():
                task = self.spawn(self._guard("speech",
                                              media.speaker.speak(cmd.seq, cmd.utterances)))
                self.speaking.add(task)
                task.add_done_callback(self.speaking.discard)
            case c.SwitchLanguage():
                self.call = dataclasses.replace(self.call, language=cmd.language)
                media.switch_language(cmd.language)
            case c.StopAudio():
                media.playback.cut()
                self.spawn(self._guard("clear", media.channel.clear()))
            case c.Recognize():
                self.spawn(self._guard("asr", self._recognize()))
            case c.DropSpeech():
                for stream in media.listener.drop():
                    self.spawn(stream.cancel())
            case c.SendToDialogue():
                self.spawn(self._guard("dialogue", self._send(cmd)))
            case c.VerifyIdentity():
                self.spawn(self._guard("identity", self._verify(cmd)))
            case c.StartHandoff():
                self.handoff_task = self.spawn(self._guard("handoff", self._hand_off(cmd)))
            case c.RecordTurn():
                self.recorder.turn(cmd)
                if cmd.latency_ms is not None:
                    self.parts.metrics.turn_latency_ms.append(cmd.latency_ms)
            case c.RecordEvent():
                self.recorder.event(cmd.kind, cmd.code, dict(cmd.detail))
            case c.Count():
                self.recorder.count(cmd.counter)
                if cmd.counter == Counter.BARGE_INS:
                    self.parts.metrics.barge_ins += 1
            case c.UpdateCall():
                self.recorder.update(**cmd.fields)
            case c.StartTimer():
                self._cancel_timer(cmd.timer)
                self.timers[cmd.timer] = self.spawn(self._timer(cmd.timer, cmd.delay_s))
            case c.CancelTimer():
                self._cancel_timer(cmd.timer)
            case c.EndCall():
                if self.end is None:
                    self.end = cmd
                    self._ending.set()

    # ---- command bodies ----------------------------------------------------------------

    async def _recognize(self) -> None:
        stream = self.media.listener.take_ended()
        if stream is None:
            self.feed(e.Transcribed(self.clock.now(), "", error="asr_failed"))
            return
        started = self.clock.now()
        try:
            result = await stream.finish()
        except Exception as exc:
            log.warning("call %s: recognition failed: %s", self.call.call_id, exc)
            self.feed(e.Transcribed(self.clock.now(), "", error="asr_failed"))
            return
        confs = [w.conf for w in result.words if w.word != "[unk]"]
        confidence = round(sum(confs) / len(confs), 3) if confs else None
        self.feed(e.Transcribed(self.clock.now(), result.text, confidence,
                                round((self.clock.now() - started) * 1000, 1)))

    async def _send(self, cmd: c.SendToDialogue) -> None:
        try:
            reply = await self.media.dialogue.send(self.call.call_id, cmd.message,
                                                   dict(cmd.metadata))
        except DialogueError as exc:
            log.warning("call %s: %s", self.call.call_id, exc)
            self.feed(e.DialogueFailed(self.clock.now(), exc.code.value))
            return
        self.feed(e.DialogueReplied(self.clock.now(), reply.turn, reply.elapsed_ms))

    async def _verify(self, cmd: c.VerifyIdentity) -> None:
        outcome = await self.parts.verifier.verify(self.call, cmd.digits, cmd.confidence)
        self.feed(e.IdentityChecked(self.clock.now(), outcome.message, outcome.verified))

    async def _hand_off(self, cmd: c.StartHandoff) -> None:
        await self.recorder.flush(STEP_TIMEOUT_S)  # the agent's card reads the transcript
        await self.parts.handoff.handoff(self.handle, cmd.handoff)

    async def _timer(self, timer: Timer, delay_s: float) -> None:
        await self.clock.sleep_until(self.clock.now() + delay_s)
        self.timers.pop(timer, None)
        self.feed(e.TimerFired(self.clock.now(), timer))

    def _cancel_timer(self, timer: Timer) -> None:
        task = self.timers.pop(timer, None)
        if task is not None:
            task.cancel()
