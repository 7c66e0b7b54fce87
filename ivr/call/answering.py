"""The answer half of the call controller: listening, end-of-answer per question type, keypad,
the ID digits (collected across pauses, checked through the identity seam), no-input policy,
and handing answers to the dialogue. Pure, like the controller that extends it."""

from __future__ import annotations

from abc import abstractmethod

from ivr.call import commands as c
from ivr.call import events as e
from ivr.call.answers import UNK, DigitsCollector, DigitsStatus, complete, words
from ivr.call.caller import NO_MATCH_MESSAGE, CallerTurn, keyed, message_metadata
from ivr.call.model import CallContext, ListenMode, State, Timer
from ivr.call.policy import AnswerKind, CallPolicy
from ivr.call.prompts import PromptBook, SystemPrompt
from ivr.core.types import CallOutcome, Expectation, Language, Priority
from ivr.customers.identity import MASKED
from ivr.dialogue.keypad import AGENT, REPEAT, key_message
from ivr.dialogue.turns import Handoff, Utterance
from ivr.store.records import Counter, Role, TurnSource


class Answering:
    state: State
    out: list[c.Command]

    def __init__(self, policy: CallPolicy, prompts: PromptBook) -> None:
        self.policy = policy
        self.prompts = prompts
        self.state = State.STARTING
        self.call: CallContext | None = None
        self.expect: Expectation | None = None
        self.long_answer = False
        self.identity_verified = False
        self.no_agent = False  # an escalation found nobody: the caller was told so
        self.last_question: tuple[Utterance, ...] = ()
        self.partial = ""
        self.utterance_open = False
        self.awaiting_text = False
        self.barged = False
        self.last_voiced_at: float | None = None
        self.caller: CallerTurn | None = None  # the answer the dialogue is working on
        self.no_input = 0
        self._short_end = False
        self._digits = DigitsCollector(policy.digits_length)
        self._deferred: CallerTurn | None = None  # keyed while the bot could not listen
        self._deferred_message = ""

    # supplied by the controller
    @abstractmethod
    def speak(self, utterances: tuple[Utterance, ...], source: TurnSource,
              after: Handoff | None = None) -> None: ...

    @abstractmethod
    def end_after(self, outcome: CallOutcome, reason: str, prompt: SystemPrompt) -> None: ...

    def emit(self, *commands: c.Command) -> None:
        self.out.extend(commands)

    @property
    def language(self) -> Language:
        return self.call.language if self.call is not None else Language.ZH

    @property
    def kind(self) -> AnswerKind:
        return AnswerKind.of(self.expect, self.long_answer)

    def end_silence(self, short: bool = False) -> int:
        timing = self.policy.timing(self.kind)
        return timing.complete_silence_ms if short else timing.end_silence_ms

    # ---- listening ---------------------------------------------------------------------

    def listen(self, *, arm: bool) -> None:
        self.state = State.LISTENING
        self._short_end = False
        self.emit(c.Listen(ListenMode.LISTEN, self.expect, self.end_silence()))
        if arm and not self.utterance_open:
            if self._digits.empty:
                self.emit(c.StartTimer(Timer.NO_INPUT, self.policy.no_input_s))
            else:  # more digits may follow after a pause
                self.emit(c.StartTimer(Timer.INTER_DIGIT, self.policy.inter_digit_s))

    def partial_text(self, event: e.PartialText) -> None:
        self.partial = event.text
        if self.state is not State.LISTENING or not self.utterance_open:
            return
        text = event.text
        if self.kind is AnswerKind.DIGITS and not self._digits.empty:
            text = f"{self._digits.digits} {words(text)}"
        whole = complete(self.kind, text, self.policy.digits_length)
        if whole != self._short_end:  # complete and stable: a short silence ends it
            self._short_end = whole
            self.emit(c.Listen(ListenMode.LISTEN, self.expect, self.end_silence(whole)))

    def transcribed(self, event: e.Transcribed) -> None:
        if self.state is not State.LISTENING or not self.awaiting_text:
            return
        self.awaiting_text = False
        if event.error:
            self.emit(c.RecordEvent("error", event.error, {}),
                      c.UpdateCall({"error_code": event.error}))
        heard = words(event.text)
        caller = CallerTurn(event.text.strip() or UNK, TurnSource.SPEECH, event.confidence,
                            event.asr_ms, self.barged, self.last_voiced_at)
        self.barged = False
        self.no_input = 0
        if self.kind is AnswerKind.DIGITS and not heard and not self._digits.empty:
            self.listen(arm=True)  # noise between digits: keep collecting
            return
        if self.kind is AnswerKind.DIGITS and heard:
            status = self._digits.spoken(heard, event.confidence)
            if status is not DigitsStatus.NOT_DIGITS:
                self._digits_status(status, caller)
                return
            if not self._digits.empty:  # digits, then something else: the words decide
                caller = CallerTurn(f"{self._digits.transcript()} {caller.text}", caller.source,
                                    caller.confidence, caller.asr_ms, caller.barge_in,
                                    caller.last_voiced_at)
        self.think(heard or NO_MATCH_MESSAGE, caller)

    def key(self, digit: str) -> None:
        """A keypad press, in any state (the controller already handled barge-in)."""
        if self.state is State.THINKING:
            if digit == "0":  # "agent" always works; it waits for the current reply to play
                self._defer(AGENT, CallerTurn("[0]", TurnSource.DTMF))
            return
        if self.state not in (State.LISTENING, State.SPEAKING):
            return
        self.no_input = 0
        if self.state is State.LISTENING:
            self.emit(c.CancelTimer(Timer.NO_INPUT))
        if self.kind is AnswerKind.DIGITS:
            self._digits_status(self._digits.key(digit), None)
            return
        message = key_message(digit, self.expect)
        if message is None:
            if self.state is State.LISTENING and not self.utterance_open:
                self.emit(c.StartTimer(Timer.NO_INPUT, self.policy.no_input_s))
            return
        self._answer(message, CallerTurn(keyed(message, digit), TurnSource.DTMF))

    def _digits_status(self, status: DigitsStatus, caller: CallerTurn | None) -> None:
        if status is DigitsStatus.REPEAT:
            self._answer(REPEAT, CallerTurn("[#]", TurnSource.DTMF))
        elif status is DigitsStatus.WHOLE:
            self._answer("", caller)
        elif self.state is State.LISTENING:
            self.listen(arm=True)

    def _answer(self, message: str, caller: CallerTurn | None) -> None:
        """A whole answer (``message`` "" = the collected digits): act now, or once the bot's
        uninterruptible prompt has played."""
        if self.state is State.SPEAKING:
            self._defer(message, caller)
        elif message:
            self.think(message, caller)
        else:
            self._verify(caller)

    def _defer(self, message: str, caller: CallerTurn | None) -> None:
        self._deferred_message = message
        self._deferred = caller or CallerTurn("", TurnSource.DTMF)

    def take_deferred(self) -> None:
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            self._answer(self._deferred_message, deferred if deferred.text else None)

    def answer_timer(self, timer: Timer) -> None:
        if self.state is not State.LISTENING or self.utterance_open or self.awaiting_text:
            return
        if timer is Timer.INTER_DIGIT and not self._digits.empty:
            if self._digits.agent_request:
                self.think(AGENT, CallerTurn("[0]", TurnSource.DTMF))
            else:
                self._verify(None)
        elif timer is Timer.NO_INPUT:
            self._no_input()

    # ---- identity ----------------------------------------------------------------------

    def _verify(self, caller: CallerTurn | None) -> None:
        digits = self._digits
        source = TurnSource.DTMF if digits.keyed_only else TurnSource.SPEECH
        # The ID answer is never stored: the turn shows only that one was given.
        turn = CallerTurn(MASKED, source, digits.confidence,
                          caller.asr_ms if caller else None,
                          caller.barge_in if caller else False,
                          caller.last_voiced_at if caller else None)
        value, confidence = digits.digits, digits.confidence
        self._to_thinking(turn)
        self.emit(c.VerifyIdentity(value, self.metadata(turn), confidence))

    def identity_checked(self, event: e.IdentityChecked) -> None:
        if self.state is not State.THINKING:
            return
        self.identity_verified = self.identity_verified or event.verified is True
        self.emit(c.SendToDialogue(event.message, self.metadata(self.caller)))

    # ---- to the dialogue ---------------------------------------------------------------

    def think(self, message: str, caller: CallerTurn | None) -> None:
        self._to_thinking(caller)
        self.emit(c.SendToDialogue(message, self.metadata(caller)))

    def _to_thinking(self, caller: CallerTurn | None) -> None:
        self.state = State.THINKING
        self.caller = caller
        self.utterance_open = self.awaiting_text = False
        self._digits.reset()
        self.emit(c.Listen(ListenMode.IGNORE), c.CancelTimer(Timer.NO_INPUT),
                  c.CancelTimer(Timer.INTER_DIGIT))
        if caller is not None:
            self.emit(c.RecordTurn(Role.CALLER, caller.text, caller.source, self.expect,
                                   asr_ms=caller.asr_ms, barge_in=caller.barge_in,
                                   confidence=caller.confidence))

    def metadata(self, caller: CallerTurn | None) -> dict[str, str]:
        return message_metadata(self.call, caller)

    # ---- no input ----------------------------------------------------------------------

    def _no_input(self) -> None:
        self.no_input += 1
        self.emit(c.Count(Counter.NO_INPUT),
                  c.RecordEvent("no_input", "", {"count": self.no_input}))
        if self.no_input < self.policy.no_input_limit:
            question = self.last_question
            if self.no_input >= 2 or not question:
                still = Utterance(self.prompts.text(SystemPrompt.STILL_THERE, self.language))
                question = (still, *question)
            self.speak(question, TurnSource.SYSTEM)
        elif self.no_agent:  # told there is nobody: no second handoff, the call stays escalated
            self.end_after(CallOutcome.ESCALATED, "no_input", SystemPrompt.NO_INPUT_GOODBYE)
        elif self.identity_verified:  # mid-task: a person takes over
            handoff = Handoff("no_input", Priority.NORMAL)
            self.escalate_record(handoff)
            text = self.prompts.text(SystemPrompt.NO_INPUT_HANDOFF, self.language)
            self.speak((Utterance(text, uninterruptible=True),), TurnSource.SYSTEM, handoff)
        else:
            self.end_after(CallOutcome.ABANDONED, "no_input", SystemPrompt.NO_INPUT_GOODBYE)

    def escalate_record(self, handoff: Handoff) -> None:
        self.emit(c.RecordEvent("handoff", handoff.reason, {"priority": handoff.priority.value}),
                  c.UpdateCall({"escalation_reason": handoff.reason,
                                "escalation_priority": handoff.priority.value}))


__all__ = ["NO_MATCH_MESSAGE", "Answering", "CallerTurn"]
