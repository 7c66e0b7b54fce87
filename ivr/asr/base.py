"""Recognizer interface: results, per-utterance streams and engines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ivr.core.types import Expectation, Language


@dataclass(frozen=True, slots=True)
class AsrWord:
    """One recognized word; times in seconds from the start of the stream."""

    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True, slots=True)
class AsrResult:
    """Recognized text. Partials have ``is_final=False`` and usually no words."""

    text: str
    is_final: bool
    words: tuple[AsrWord, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()

    @property
    def confidence(self) -> float | None:
        """Mean word confidence (0..1), or None when there are no word details."""
        if not self.words:
            return None
        return sum(w.conf for w in self.words) / len(self.words)


class RecognizerStream(Protocol):
    """Decodes one utterance (or call) of PCM16 mono audio; not thread-safe."""

    def accept(self, pcm16: bytes) -> AsrResult | None:
        """Feed audio; returns a partial only when the partial text changed."""
        ...

    def finish(self) -> AsrResult:
        """End the stream and return the final result; the stream cannot be fed afterwards."""
        ...


class AsrEngine(Protocol):
    """Holds loaded models; opens one stream per utterance/call."""

    def open_stream(
        self, lang: Language, expect: Expectation, sample_rate: int
    ) -> RecognizerStream: ...
