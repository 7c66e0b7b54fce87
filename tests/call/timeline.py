"""A scripted timeline around the pure call controller: a virtual clock, a listener that turns
"speech from t=… to t=…" into the events the real listener emits (20 ms frames, endpointing
with the end-of-answer silence the controller asked for), a player that plays bot turns for a
length of time, a scripted dialogue, timers. No real clock, no I/O: a whole call runs in
milliseconds."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.call import commands as c
from ivr.call import events as e
from ivr.call.controller import CallController
from ivr.call.model import CallContext, ListenMode, State, Timer
from ivr.call.policy import CallPolicy
from ivr.call.prompts import load_prompts
from ivr.core.types import CallOutcome, Expectation, Language
from ivr.dialogue.turns import BotTurn, Handoff, Hangup, Utterance
from ivr.store.records import Role

FRAME = 0.02
MIN_SPEECH_S = 0.12  # the endpointer's min_speech_ms
PROMPTS = load_prompts()

Reply = BotTurn | str  # a BotTurn, or an error code (the dialogue failed)


def ask(text: str, expect: Expectation | None = Expectation.YES_NO, *,
        notice: str | None = None, **extra: Any) -> BotTurn:
    utterances = (Utterance(notice, uninterruptible=True),) if notice else ()
    return BotTurn((*utterances, Utterance(text)), expect, **extra)


def hangup(text: str, outcome: CallOutcome = CallOutcome.COMPLETED) -> BotTurn:
    return BotTurn((Utterance(text),), hangup=Hangup(outcome))


def handoff(text: str, reason: str) -> BotTurn:
    return BotTurn((Utterance(text),), handoff=Handoff(reason))


@dataclass
class Utter:
    start: float
    end: float
    text: str
    confidence: float = 0.9
    caller_share: float = 1.0  # share of voiced frames the barge-in gate gives the caller
    partial_after: float = 0.15  # the recognizer's partial appears this long after onset


@dataclass
class World:
    dialogue: Callable[[str], Reply]
    policy: CallPolicy = field(default_factory=CallPolicy)
    outbound: bool = False
    lang: Language = Language.ZH
    seconds_per_char: float = 0.25  # how long the bot takes to say a character
    dialogue_s: float = 0.08
    tts_s: float = 0.03
    asr_s: float = 0.02
    # The agent queue's answer after a handoff: (seconds later, outcome); None: never.
    agent: tuple[float, CallOutcome] | None = (1.0, CallOutcome.ESCALATED)
    verify: Callable[[str], tuple[str, bool | None]] = \
        lambda d: ('/inform_digits{"digits": "%s"}' % d, None)  # noqa: UP031
    now: float = 0.0
    log: list[c.Command] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    ended: list[c.EndCall] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ctrl = CallController(self.policy, PROMPTS)
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._timers: dict[Timer, int] = {}
        self._timer_gen = itertools.count(1)
        self.mode = ListenMode.IGNORE
        self.end_silence_ms = 450
        self._playing: tuple[int, float] | None = None  # (seq, end time)
        self._audio_free_at = 0.0
        self._utter: Utter | None = None  # the utterance the endpointer is tracking
        self._open = False
        self.spoken: list[tuple[int, float, float, bool]] = []  # seq, start, end, cut
        self.spoken_start = 0.0
        self._since = 0.0  # when the listener last started listening
        self._turns: list[dict[str, Any]] = []
        self._bot_spoke = False
        self._first = True
        self._quiet = 0.7
        self._merged: set[int] = set()
        self._caller_done = 0.0
        self._started = False

    # ---- scheduling ----------------------------------------------------------------------

    def at(self, when: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (when, next(self._order), fn))

    def feed(self, event: e.CallEvent) -> None:
        for command in self.ctrl.handle(event):
            self.log.append(command)
            self._execute(command)

    def run(self, until: float = 600.0) -> World:
        """Advance the virtual clock up to ``until`` (or until the call ends)."""
        if not self._started:
            self._started = True
            self.at(0.0, lambda: self.feed(e.CallStarted(self.now, CallContext(
                "CA-test", self.lang, "C-1", self.outbound, {"customer_title": "张先生"}))))
        while self._queue and self.ctrl.state is not State.ENDED:
            if self._queue[0][0] > until:
                self.now = until
                break
            when, _, fn = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            fn()
        return self

    # ---- the caller ----------------------------------------------------------------------

    def say(self, start: float, text: str, duration: float | None = None,
            **kw: Any) -> None:
        end = start + (duration if duration is not None else 0.3 + 0.2 * len(text.split()))
        utter = Utter(start, end, text, **kw)
        t = start
        while t < end + 3.0:
            self.at(t + FRAME, lambda u=utter, f=t + FRAME: self._frame(u, f))
            t += FRAME

    def press(self, when: float, digits: str, gap: float = 0.15) -> None:
        for i, d in enumerate(digits):
            self.at(when + i * gap, lambda d=d: self.feed(e.DigitPressed(self.now, d)))

    def hang_up(self, when: float) -> None:
        self.at(when, lambda: self.feed(e.HungUp(self.now)))

    def shutdown(self, when: float) -> None:
        self.at(when, lambda: self.feed(e.Shutdown(self.now)))

    def _frame(self, utter: Utter, t: float) -> None:
        voiced = utter.start < t <= utter.end + 1e-9
        current = self._utter
        if self._open and current is not None and current is not utter:
            if id(utter) not in self._merged and voiced:
                # speech resumed before the end silence: the same utterance goes on
                self._merged.add(id(utter))
                current.text = f"{current.text} {utter.text}"
            if id(utter) in self._merged:
                if voiced:
                    current.end = max(current.end, t)
                utter = current
        if self.mode is ListenMode.IGNORE:
            if self._utter is utter:
                self._utter, self._open = None, False
            return
        if self._utter is not None and self._utter is not utter:
            return
        if not self._open:
            if voiced and t - max(utter.start, self._since) >= MIN_SPEECH_S - 1e-9:
                self._utter, self._open = utter, True
                self.feed(e.SpeechStarted(self.now))
                self.at(utter.start + utter.partial_after,
                        lambda: self._partial(utter))
            return
        if voiced:
            speech_ms = round((t - utter.start) * 1000)
            self.feed(e.SpeechActivity(self.now, speech_ms, round(speech_ms * utter.caller_share)))
        elif t - utter.end >= self.end_silence_ms / 1000 - 1e-9:
            self._open = False
            self.feed(e.SpeechStopped(self.now, utter.end))

    def _partial(self, utter: Utter) -> None:
        if self._utter is utter and (self._open or self.mode is not ListenMode.IGNORE):
            self.feed(e.PartialText(self.now, utter.text))

    # ---- a reactive caller (as the phone simulator acts) ---------------------------------

    def script(self, turns: list[dict[str, Any]], quiet: float = 0.7) -> None:
        """Caller turns as in fixture scripts: each after the bot has finished speaking and
        been quiet for ``quiet`` s, or ``barge_in_ms`` into a bot turn."""
        self._turns = list(turns)
        self._quiet = quiet
        self._first = True
        self.at(FRAME, self._poll)

    def _poll(self) -> None:
        if not self._turns:
            return
        turn = self._turns[0]
        if turn.get("barge_in_ms") is not None:
            ready = self._playing is not None and \
                self.now - self.spoken_start >= turn["barge_in_ms"] / 1000
        elif turn.get("pause_ms") is not None:  # mid-answer: no waiting for the bot
            ready = self.now - self._caller_done >= turn["pause_ms"] / 1000
        elif self._first and self.outbound:
            ready = True
        else:
            ready = self._bot_spoke and self._playing is None and \
                self.now - self._audio_free_at >= self._quiet
        if ready:
            self._turns.pop(0)
            self._first = self._bot_spoke = False
            self._act(turn)
        self.at(self.now + FRAME, self._poll)

    def _act(self, turn: dict[str, Any]) -> None:
        start = self.now + turn.get("silence_ms", 0) / 1000
        if turn.get("say"):
            text = str(turn["say"])
            self.say(start, text)
            self._caller_done = start + 0.3 + 0.2 * len(text.split())
        elif turn.get("digits"):
            self.press(start, str(turn["digits"]))
        elif turn.get("hangup"):
            self.hang_up(start)

    # ---- commands ------------------------------------------------------------------------

    def _execute(self, cmd: c.Command) -> None:
        match cmd:
            case c.Listen():
                if cmd.mode is ListenMode.IGNORE or self.mode is ListenMode.IGNORE:
                    self._since = self.now
                if cmd.mode is ListenMode.IGNORE:
                    self._utter, self._open = None, False
                self.mode = cmd.mode
                self.end_silence_ms = cmd.end_silence_ms or 450
            case c.Speak():
                self._speak(cmd)
            case c.StopAudio():
                if self._playing is not None:
                    seq, _ = self._playing
                    self._playing = None
                    self._audio_free_at = self.now
                    self.spoken.append((seq, self.spoken_start, self.now, True))
                    self.at(self.now, lambda: self.feed(e.AudioFinished(self.now, seq)))
            case c.Recognize():
                utter = self._utter
                self._utter = None
                text = utter.text if utter else ""
                conf = utter.confidence if utter else None
                self.at(self.now + self.asr_s, lambda: self.feed(
                    e.Transcribed(self.now, text, conf, self.asr_s * 1000)))
            case c.DropSpeech():
                self._utter, self._open = None, False
            case c.SendToDialogue():
                self.sent.append(cmd.message)
                self.sent_at.append(self.now)
                reply = self.dialogue(cmd.message)
                self.at(self.now + self.dialogue_s, lambda: self.feed(
                    e.DialogueFailed(self.now, reply) if isinstance(reply, str)
                    else e.DialogueReplied(self.now, reply, self.dialogue_s * 1000)))
            case c.VerifyIdentity():
                message, ok = self.verify(cmd.digits)
                self.at(self.now + 0.01,
                        lambda: self.feed(e.IdentityChecked(self.now, message, ok)))
            case c.StartHandoff():
                self.handoffs.append(cmd.handoff)
                if self.agent is not None:
                    delay, outcome = self.agent
                    self.at(self.now + delay,
                            lambda: self.feed(e.HandoffFinished(self.now, outcome)))
            case c.StartTimer():
                gen = next(self._timer_gen)
                self._timers[cmd.timer] = gen
                self.at(self.now + cmd.delay_s, lambda t=cmd.timer, g=gen: self._fire(t, g))
            case c.CancelTimer():
                self._timers.pop(cmd.timer, None)
            case c.EndCall():
                self.ended.append(cmd)

    def _speak(self, cmd: c.Speak) -> None:
        duration = sum(len(u.text) * self.seconds_per_char if not u.uninterruptible else 8.0
                       for u in cmd.utterances)
        start = max(self.now + self.tts_s, self._audio_free_at)
        end = start + duration
        self._audio_free_at = end

        def started() -> None:
            self._playing = (cmd.seq, end)
            self.spoken_start = self.now
            self._bot_spoke = True
            self.feed(e.AudioStarted(self.now, cmd.seq, self.tts_s * 1000))

        def finished() -> None:
            if self._playing is not None and self._playing[0] == cmd.seq:
                self._playing = None
                self.spoken.append((cmd.seq, start, end, False))
                self.feed(e.AudioFinished(self.now, cmd.seq))

        self.at(start, started)
        self.at(end, finished)

    def _fire(self, timer: Timer, gen: int) -> None:
        if self._timers.get(timer) == gen:
            del self._timers[timer]
            self.feed(e.TimerFired(self.now, timer))

    # ---- what happened -------------------------------------------------------------------

    def of(self, kind: type[Any]) -> list[Any]:
        return [cmd for cmd in self.log if isinstance(cmd, kind)]

    @property
    def heard(self) -> list[str]:
        return [t.text for t in self.of(c.RecordTurn) if t.role is Role.CALLER]

    def counted(self, counter: str) -> int:
        return sum(1 for cmd in self.of(c.Count) if cmd.counter == counter)

    @property
    def outcome(self) -> CallOutcome | None:
        return self.ended[0].outcome if self.ended else None

    def bot_done_at(self, n: int) -> float:
        """When the n-th bot turn (1-based) finished playing."""
        return sorted(end for _, _, end, _ in self.spoken)[n - 1]
