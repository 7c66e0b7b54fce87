"""The bot's-voice half of the call controller: playing a turn, recording it with its latency
when its first audio leaves, and what follows once it has played (listen, hand over, end)."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.call import commands as c
from ivr.call import events as e
from ivr.call.answering import Answering
from ivr.call.model import ListenMode, State, Timer
from ivr.call.policy import CallPolicy
from ivr.call.prompts import PromptBook, SystemPrompt
from ivr.core.types import CallOutcome
from ivr.dialogue.turns import Handoff, Utterance
from ivr.store.records import Role, TurnSource


@dataclass(frozen=True, slots=True)
class Ending:
    """What ends the call once the bot's last words have played."""

    outcome: CallOutcome
    reason: str


After = Handoff | Ending | None


@dataclass(slots=True)
class Playing:
    """The bot turn being played and what follows it."""

    seq: int
    text: str
    interruptible: bool
    source: TurnSource
    after: After
    last_voiced_at: float | None = None
    dialogue_ms: float | None = None
    recorded: bool = False


class Speaking(Answering):
    def __init__(self, policy: CallPolicy, prompts: PromptBook) -> None:
        super().__init__(policy, prompts)
        self.outcome: CallOutcome | None = None
        self.playing: Playing | None = None
        self._seq = 0
        # Spoken before the dialogue answered (the call's opening and recording notice): its
        # turn and its texts, whether the dialogue's next turn may still repeat them, and
        # whether its audio is still playing (nothing interrupts it, not even a later turn).
        self._early_seq = 0
        self._early_texts: tuple[str, ...] = ()
        self._early_pending = False
        self.early_playing = False

    def say_early(self, *texts: str) -> None:
        """Speak while the dialogue thinks: played first, uninterruptible, recorded when it
        starts, skipped if the dialogue's turn begins with the same texts."""
        self._seq += 1
        self._early_seq, self._early_texts, self._early_pending = self._seq, texts, True
        self.early_playing = True
        self.emit(c.Speak(self._seq, tuple(Utterance(t, uninterruptible=True) for t in texts),
                          False, TurnSource.SYSTEM))

    def not_said_early(self, utterances: tuple[Utterance, ...]) -> tuple[Utterance, ...]:
        pending, self._early_pending = self._early_pending, False
        said = self._early_texts
        if pending and said and tuple(u.text for u in utterances[:len(said)]) == said:
            return utterances[len(said):]
        return utterances

    @property
    def may_barge_in(self) -> bool:
        """Whether the caller may cut the bot now: an interruptible turn is playing and the
        early opening (with its recording notice) has finished."""
        playing = self.playing
        return self.state is State.SPEAKING and playing is not None and \
            playing.interruptible and not self.early_playing

    def speak(self, utterances: tuple[Utterance, ...], source: TurnSource, after: After = None,
              *, dialogue_ms: float | None = None, last_voiced_at: float | None = None) -> None:
        """Play a bot turn. A turn that ends the bot's part (handoff, hang-up) or holds an
        uninterruptible utterance (the recording notice) cannot be interrupted."""
        self._seq += 1
        interruptible = after is None and all(not u.uninterruptible for u in utterances)
        self.playing = Playing(self._seq, " ".join(u.text for u in utterances), interruptible,
                               source, after, last_voiced_at, dialogue_ms)
        self.state = State.SPEAKING
        self.emit(c.Speak(self._seq, utterances, interruptible, source),
                  c.Listen(ListenMode.BARGE if interruptible else ListenMode.IGNORE,
                           self.expect, self.end_silence()))

    def say_then(self, prompt: SystemPrompt, after: After) -> None:
        text = self.prompts.text(prompt, self.language)
        self.speak((Utterance(text, uninterruptible=True),), TurnSource.SYSTEM, after)

    def audio_started(self, event: e.AudioStarted) -> None:
        if self._early_seq == event.seq:
            self.emit(c.RecordTurn(Role.BOT, " ".join(self._early_texts), TurnSource.SYSTEM))
        playing = self.playing
        if playing is None or playing.seq != event.seq or playing.recorded:
            return
        playing.recorded = True
        latency = None
        if playing.last_voiced_at is not None:
            latency = round((event.at - playing.last_voiced_at) * 1000, 1)
        self.emit(c.RecordTurn(Role.BOT, playing.text, playing.source, self.expect,
                               dialogue_ms=playing.dialogue_ms, tts_ms=event.tts_ms,
                               latency_ms=latency))

    def audio_finished(self, event: e.AudioFinished) -> None:
        if self._early_seq == event.seq:
            self.early_playing = False
        playing = self.playing
        if playing is None or playing.seq != event.seq:
            return
        self.playing = None
        if event.error:
            self.emit(c.RecordEvent("error", event.error, {"seq": event.seq}))
        if not playing.recorded:
            self.emit(c.RecordTurn(Role.BOT, playing.text, playing.source, self.expect,
                                   dialogue_ms=playing.dialogue_ms))
        if self.state is State.SPEAKING:
            self.then(playing.after)

    def then(self, after: After) -> None:
        if isinstance(after, Handoff):
            self.state = State.ON_HOLD
            self.emit(c.Listen(ListenMode.IGNORE), c.CancelTimer(Timer.NO_INPUT),
                      c.CancelTimer(Timer.INTER_DIGIT), c.StartHandoff(after))
        elif isinstance(after, Ending):
            self.end(after.outcome, after.reason)
        else:
            self.listen(arm=True)
            self.take_deferred()

    def end_after(self, outcome: CallOutcome, reason: str, prompt: SystemPrompt) -> None:
        self.say_then(prompt, Ending(outcome, reason))

    def end(self, outcome: CallOutcome | None, reason: str, *, drain: bool = True,
            error_code: str | None = None) -> None:
        final = outcome or CallOutcome.ABANDONED
        self.outcome = final
        self.state = State.ENDED
        self.emit(c.RecordEvent("hangup", final.value, {"reason": reason}),
                  c.EndCall(final, reason, drain, error_code))
