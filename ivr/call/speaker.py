"""Speaks one bot turn: text → speech (sentence by sentence) → the channel's rate → playback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Protocol

from ivr.audio.resample import StreamResampler
from ivr.call.clock import Clock
from ivr.call.playback import Playback
from ivr.core.audio import Pcm
from ivr.core.errors import IvrError
from ivr.core.types import Language
from ivr.dialogue.turns import Utterance

log = logging.getLogger(__name__)


class Speech(Protocol):
    def stream(self, text: str, lang: Language) -> AsyncIterator[Pcm]: ...


class Speaker:
    def __init__(self, speech: Speech, lang: Language, rate: int, playback: Playback,
                 clock: Clock) -> None:
        self._speech = speech
        self.language = lang  # switched by the call's media when the caller asks
        self._rate = rate
        self._playback = playback
        self._clock = clock
        self.first_ms: dict[int, float] = {}  # per turn: ms until its first audio was ready

    async def speak(self, seq: int, utterances: tuple[Utterance, ...]) -> None:
        """Queue the turn's audio (``end(seq)`` always follows, also on failure)."""
        self._playback.begin(seq)
        started = self._clock.now()
        first_ms: float | None = None
        error: str | None = None
        lang = self.language  # the whole turn in one voice
        try:
            for utt in utterances:
                resampler: StreamResampler | None = None
                async for pcm in self._speech.stream(utt.text, lang):
                    if first_ms is None:
                        first_ms = round((self._clock.now() - started) * 1000, 1)
                        self.first_ms[seq] = first_ms
                    data = pcm.data
                    if pcm.rate != self._rate:  # once, at the edge
                        resampler = resampler or StreamResampler(pcm.rate, self._rate)
                        data = resampler.process(data)
                    await self._playback.enqueue(seq, data)
                if resampler is not None:
                    await self._playback.enqueue(seq, resampler.flush())
        except IvrError as exc:
            log.warning("turn %d could not be spoken: %s", seq, exc)
            error = exc.code.value
        finally:
            self._playback.end(seq, error)
