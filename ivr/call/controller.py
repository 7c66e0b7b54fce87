"""The call controller: one call's turn-taking as a pure state machine.

Events in (``ivr.call.events``), commands out (``ivr.call.commands``); no I/O and no clock
reads (every event carries its time). The driver (``ivr.call.driver``) executes the commands
and feeds back what happened. ``State.ENDED`` is set exactly once, together with ``EndCall``;
after it every event is ignored. Answer handling (keypad, digits, no-input) is in
``ivr.call.answering``; this module is the skeleton: start, speak, barge-in, think, hold, end.
"""

from __future__ import annotations

import dataclasses

from ivr.call import commands as c
from ivr.call import events as e
from ivr.call.answers import words
from ivr.call.model import ListenMode, State, Timer
from ivr.call.policy import CallPolicy
from ivr.call.prompts import PromptBook, SystemPrompt
from ivr.call.speaking import After, Ending, Speaking
from ivr.core.types import CallOutcome, Expectation, Language
from ivr.store.records import Counter, TurnSource

START_MESSAGE = "/call_start"


class CallController(Speaking):
    def __init__(self, policy: CallPolicy, prompts: PromptBook) -> None:
        super().__init__(policy, prompts)
        self._callee_spoke = False

    def handle(self, event: e.CallEvent) -> list[c.Command]:
        """Apply one event; returns the commands to execute, in order."""
        self.out = []
        if self.state is State.ENDED:
            return []
        match event:
            case e.CallStarted():
                self._started(event)
            case e.SpeechStarted():
                self._speech_started(event)
            case e.SpeechActivity():
                self._activity(event)
            case e.PartialText():
                self.partial_text(event)
            case e.SpeechStopped():
                self._speech_stopped(event)
            case e.Transcribed():
                self.transcribed(event)
            case e.DigitPressed():
                self._digit(event)
            case e.AudioStarted():
                self.audio_started(event)
            case e.AudioFinished():
                self.audio_finished(event)
            case e.DialogueReplied():
                self._replied(event)
            case e.DialogueFailed() if self.state is State.THINKING:
                self.emit(c.RecordEvent("error", event.error, {}),
                          c.UpdateCall({"error_code": event.error}))
                self.say_then(SystemPrompt.TECHNICAL_ERROR, Ending(CallOutcome.FAILED, "error"))
            case e.IdentityChecked():
                self.identity_checked(event)
            case e.TimerFired():
                self._timer(event)
            case e.HandoffFinished():
                self._handoff_finished(event)
            case e.HungUp() if event.error:
                self.end(CallOutcome.FAILED, event.reason, drain=False, error_code=event.error)
            case e.HungUp():
                self.end(self._final(CallOutcome.ABANDONED), event.reason, drain=False)
            case e.Crashed():
                self.end(CallOutcome.FAILED, f"{event.part}_failed", drain=False,
                          error_code="internal_error")
            case e.Shutdown():
                final = self._final(None)
                self.end(final or CallOutcome.FAILED, "shutdown", drain=False,
                          error_code=None if final else "shutdown")
        return self.out

    # ---- start -------------------------------------------------------------------------

    def _started(self, event: e.CallStarted) -> None:
        if self.state is not State.STARTING:
            return
        self.call = event.call
        self.emit(c.StartTimer(Timer.MAX_DURATION, self.policy.max_call_s))
        if event.call.outbound:  # greet after the callee's first words ("喂?") or a silence
            self.state = State.AWAIT_CALLEE
            self.emit(c.Listen(ListenMode.LISTEN, None, self.end_silence()),
                      c.StartTimer(Timer.CALLEE_SILENCE, self.policy.callee_silence_s))
        else:
            self._open()

    def _greet(self) -> None:
        self.emit(c.CancelTimer(Timer.CALLEE_SILENCE), c.CancelTimer(Timer.CALLEE_SPEECH))
        self._open()

    def _open(self) -> None:
        """Ask the dialogue for its first turn; meanwhile speak the opening sentence and the
        recording notice (before any answer is recorded)."""
        self.think(START_MESSAGE, None)
        if self.policy.early_opening:
            self.say_early(self.prompts.text(SystemPrompt.OPENING, self.language),
                           self.prompts.text(SystemPrompt.RECORDING_NOTICE, self.language))

    # ---- the caller's voice ------------------------------------------------------------

    def _speech_started(self, event: e.SpeechStarted) -> None:
        self.utterance_open = True
        self.partial = ""
        if self.state is State.AWAIT_CALLEE and not self._callee_spoke:
            self._callee_spoke = True
            self.emit(c.CancelTimer(Timer.CALLEE_SILENCE),
                      c.StartTimer(Timer.CALLEE_SPEECH, self.policy.callee_speech_s))
        elif self.state is State.LISTENING:
            self.emit(c.CancelTimer(Timer.NO_INPUT), c.CancelTimer(Timer.INTER_DIGIT))
        elif self.state is State.SPEAKING:
            self.barged = False

    def _activity(self, event: e.SpeechActivity) -> None:
        if not self.may_barge_in:
            return
        heard = bool(words(self.partial))
        if (heard and event.caller_ms >= self.policy.barge_in_ms) or \
                event.caller_ms >= self.policy.barge_in_max_ms:
            self.barge_in("speech")

    def barge_in(self, reason: str) -> None:
        self.emit(c.StopAudio(), c.Count(Counter.BARGE_INS), c.RecordEvent("barge_in", reason))
        self.barged = reason == "speech"
        self.listen(arm=reason != "speech")

    def _speech_stopped(self, event: e.SpeechStopped) -> None:
        self.utterance_open = False
        if self.state is State.AWAIT_CALLEE:
            self.emit(c.DropSpeech())
            self._greet()
        elif self.state is State.LISTENING:
            self.awaiting_text = True
            self.last_voiced_at = event.last_voiced_at
            self.emit(c.Recognize())
        else:
            self.emit(c.DropSpeech())

    def _digit(self, event: e.DigitPressed) -> None:
        # A key pressed at the ID question is part of the ID: never stored.
        shown = "[*]" if self.expect is Expectation.DIGITS else event.digit
        self.emit(c.RecordEvent("dtmf", "", {"digit": shown}))
        if self.may_barge_in:
            self.barge_in("dtmf")
        self.key(event.digit)

    # ---- the bot's voice ---------------------------------------------------------------

    def _replied(self, event: e.DialogueReplied) -> None:
        if self.state is not State.THINKING:
            return
        turn = event.turn
        self.emit(c.RecordEvent("bot_reply", "", {"messages": list(turn.raw)}))
        self.emit(*(c.Count(Counter.NO_MATCH) for ev in turn.events if ev.get("no_match")))
        self.identity_verified = self.identity_verified or turn.identity_verified
        if turn.language is not None:
            self._switch_language(turn.language)
        if turn.utterances and turn.expect is not None:
            # What a reprompt repeats: the question itself, not the lead-in before it.
            self.last_question = turn.utterances[-1:]
        self.expect, self.long_answer = turn.expect, turn.long_answer
        after: After = None
        if turn.handoff is not None:
            after = turn.handoff
            self.escalate_record(turn.handoff)
        elif turn.hangup is not None:
            after = Ending(turn.hangup.outcome, "dialogue")
        caller, self.caller = self.caller, None
        utterances = self.not_said_early(turn.utterances)
        if utterances:
            self.speak(utterances, TurnSource.DIALOGUE, after, dialogue_ms=event.elapsed_ms,
                       last_voiced_at=caller.last_voiced_at if caller else None)
        else:
            self.then(after)

    def _switch_language(self, language: Language) -> None:
        """The caller asked for the other language: this turn is already in it."""
        if self.call is None or self.call.language is language:
            return
        previous = self.call.language
        self.call = dataclasses.replace(self.call, language=language)
        self.emit(c.SwitchLanguage(language),
                  c.RecordEvent("language_switch", language.value, {"from": previous.value}),
                  c.UpdateCall({"language": language}))

    # ---- timers, hold, end -------------------------------------------------------------

    def _timer(self, event: e.TimerFired) -> None:
        if event.timer is Timer.MAX_DURATION:
            self.emit(c.RecordEvent("max_duration"))
            if self.state is State.ON_HOLD:
                self.end(CallOutcome.ESCALATED, "max_duration")
            else:
                self.emit(c.StopAudio())
                self.say_then(SystemPrompt.MAX_DURATION_GOODBYE,
                              Ending(self._final(None) or CallOutcome.ABANDONED,
                                     "max_duration"))
        elif event.timer in (Timer.CALLEE_SILENCE, Timer.CALLEE_SPEECH):
            if self.state is State.AWAIT_CALLEE:
                self.emit(c.DropSpeech())
                self._greet()
        else:
            self.answer_timer(event.timer)

    def _handoff_finished(self, event: e.HandoffFinished) -> None:
        if self.state is not State.ON_HOLD:
            return
        if event.resume is not None:
            self.no_agent = True
            self.think(event.resume, None)
        elif event.prompt is not None:
            self.say_then(event.prompt, Ending(event.outcome, "handoff"))
        else:
            self.end(event.outcome, "handoff")

    def _final(self, default: CallOutcome | None) -> CallOutcome | None:
        """The outcome already decided (last words playing), else ``default``."""
        playing = self.playing
        if playing is not None and isinstance(playing.after, Ending):
            return playing.after.outcome
        return default



__all__ = ["START_MESSAGE", "CallController"]
