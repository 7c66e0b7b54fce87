"""Vosk (Kaldi) engine: each language's model loaded once, one recognizer per stream."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vosk

from ivr.asr.base import AsrResult, AsrWord
from ivr.asr.grammars import grammar_for
from ivr.asr.model_files import ModelLayout, read_vocabulary, validate_model_dir
from ivr.core.errors import AsrError, ErrorCode, ModelError
from ivr.core.types import Expectation, Language

log = logging.getLogger(__name__)

vosk.SetLogLevel(-1)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A loaded model shared by all streams of its language (libvosk models are thread-safe)."""

    language: Language
    layout: ModelLayout
    model: Any  # vosk.Model
    vocabulary: frozenset[str]

    @property
    def supports_grammar(self) -> bool:
        return self.layout.lookahead


def _words(raw: Mapping[str, Any]) -> tuple[AsrWord, ...]:
    return tuple(
        AsrWord(
            word=str(w["word"]),
            start=float(w.get("start", 0.0)),
            end=float(w.get("end", 0.0)),
            conf=float(w.get("conf", 1.0)),
        )
        for w in raw.get("result", ())
    )


class VoskStream:
    """One ``KaldiRecognizer``. Segments Vosk finalizes on its own are kept and joined."""

    def __init__(self, recognizer: Any, grammar: list[str] | None) -> None:
        self._rec = recognizer
        self.grammar = grammar
        self._segments: list[AsrResult] = []
        self._partial = ""
        self._finished = False

    def _committed_text(self) -> str:
        return " ".join(s.text for s in self._segments if s.text)

    def _joined(self, tail: str) -> str:
        return " ".join(t for t in (self._committed_text(), tail) if t)

    def accept(self, pcm16: bytes) -> AsrResult | None:
        if self._finished:
            raise AsrError("recognizer stream already finished")
        try:
            if self._rec.AcceptWaveform(pcm16):
                raw = json.loads(self._rec.Result())
                self._segments.append(AsrResult(raw.get("text", ""), True, _words(raw)))
                tail = ""
            else:
                tail = json.loads(self._rec.PartialResult()).get("partial", "")
        except (ValueError, RuntimeError) as exc:
            raise AsrError(f"Vosk decoding failed: {exc}") from exc
        text = self._joined(tail)
        if text == self._partial:
            return None
        self._partial = text
        return AsrResult(text=text, is_final=False)

    def finish(self) -> AsrResult:
        if self._finished:
            raise AsrError("recognizer stream already finished")
        self._finished = True
        try:
            raw = json.loads(self._rec.FinalResult())
        except (ValueError, RuntimeError) as exc:
            raise AsrError(f"Vosk decoding failed: {exc}") from exc
        self._segments.append(AsrResult(raw.get("text", ""), True, _words(raw)))
        words = tuple(w for s in self._segments for w in s.words)
        return AsrResult(text=self._committed_text(), is_final=True, words=words)


class VoskEngine:
    """Loads every configured model at construction (slow: build it off the event loop)."""

    def __init__(self, model_dirs: Mapping[Language, Path]) -> None:
        if not model_dirs:
            raise ModelError("no Vosk model configured", code=ErrorCode.MODEL_MISSING)
        self._models = {lang: self._load(lang, Path(path)) for lang, path in model_dirs.items()}

    @staticmethod
    def _load(lang: Language, path: Path) -> LoadedModel:
        layout = validate_model_dir(path)
        try:
            model = vosk.Model(str(path))
        except Exception as exc:  # libvosk raises a bare Exception on load failure
            raise ModelError(
                f"libvosk could not load the {lang} model at {path}: {exc}",
                code=ErrorCode.MODEL_INVALID,
            ) from exc
        vocabulary = read_vocabulary(layout)
        log.info("loaded Vosk %s model %s (%d words)", lang, path, len(vocabulary))
        return LoadedModel(lang, layout, model, vocabulary)

    @property
    def languages(self) -> frozenset[Language]:
        return frozenset(self._models)

    def model(self, lang: Language) -> LoadedModel:
        try:
            return self._models[lang]
        except KeyError:
            raise ModelError(
                f"no Vosk model loaded for language {lang}", code=ErrorCode.MODEL_MISSING
            ) from None

    def grammar(self, lang: Language, expect: Expectation) -> list[str] | None:
        """The grammar a stream would use, or None for open vocabulary."""
        loaded = self.model(lang)
        if not loaded.supports_grammar:
            return None
        return grammar_for(lang, expect, loaded.vocabulary)

    def open_stream(self, lang: Language, expect: Expectation, sample_rate: int) -> VoskStream:
        loaded = self.model(lang)
        grammar = self.grammar(lang, expect)
        try:
            if grammar is None:
                rec = vosk.KaldiRecognizer(loaded.model, float(sample_rate))
            else:
                grammar_json = json.dumps(grammar, ensure_ascii=False)
                rec = vosk.KaldiRecognizer(loaded.model, float(sample_rate), grammar_json)
            rec.SetWords(True)
        except Exception as exc:
            raise AsrError(f"could not create a Vosk recognizer: {exc}") from exc
        return VoskStream(rec, grammar)
