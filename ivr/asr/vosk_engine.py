"""Vosk (Kaldi) engine: each language's model loaded once, one recognizer per stream."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import vosk

from ivr.asr.base import AsrResult, AsrWord
from ivr.asr.decoding_view import DecodingOptions, decoding_view
from ivr.asr.grammars import GrammarFit, fit_grammar
from ivr.asr.lexicon import ModelLexicon
from ivr.asr.model_files import ModelLayout, unpack_packed_files, validate_model_dir
from ivr.core.errors import AsrError, ErrorCode, ModelError
from ivr.core.types import Expectation, Language

log = logging.getLogger(__name__)

vosk.SetLogLevel(-1)


@dataclass
class LoadedModel:
    """A loaded model shared by all streams of its language (libvosk models are thread-safe).

    Grammars are fitted to the model's own vocabulary once per expectation; what could not be
    fitted is logged once (our logger, not libvosk's, which ``SetLogLevel(-1)`` silences)."""

    language: Language
    layout: ModelLayout
    model: Any  # vosk.Model
    lexicon: ModelLexicon
    _grammars: dict[Expectation, GrammarFit] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def supports_grammar(self) -> bool:
        return self.layout.lookahead

    def knows(self, word: str) -> bool:
        return self.lexicon.knows(word)

    def grammar(self, expect: Expectation) -> list[str] | None:
        if not self.supports_grammar:
            return None
        with self._lock:
            fit = self._grammars.get(expect)
            if fit is None:
                fit = fit_grammar(self.language, expect, self.lexicon)
                self._grammars[expect] = fit
                self._report(expect, fit)
        return fit.grammar

    def _report(self, expect: Expectation, fit: GrammarFit) -> None:
        where = f"Vosk {self.language} model {self.layout.path.name}, {expect} question"
        for phrase in fit.unfitted:
            log.info("%s: phrase %r is not in the model's vocabulary; left out of the grammar",
                     where, phrase)
        if fit.grammar is None and expect is not Expectation.OPEN:
            log.warning("%s: open vocabulary instead of a grammar (%s)", where, fit.open_reason)


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

    def __init__(self, model_dirs: Mapping[Language, Path],
                 decoding: DecodingOptions | None = None, views: Path | None = None) -> None:
        """``decoding`` options other than the model's own are applied through a view of the
        model directory under ``views`` (:mod:`ivr.asr.decoding_view`)."""
        if not model_dirs:
            raise ModelError("no Vosk model configured", code=ErrorCode.MODEL_MISSING)
        if decoding is not None and decoding.options() and views is None:
            raise ValueError("decoding options need a directory for the model views")
        self._decoding = decoding or DecodingOptions()
        self._views = views
        self._models = {lang: self._load(lang, Path(path)) for lang, path in model_dirs.items()}

    def _load(self, lang: Language, path: Path) -> LoadedModel:
        for unpacked in unpack_packed_files(path):
            log.info("unpacked %s", unpacked)
        layout = validate_model_dir(path)
        load_from = path
        if self._views is not None:
            load_from = decoding_view(path, self._views, self._decoding)
        try:
            model = vosk.Model(str(load_from))
        except Exception as exc:  # libvosk raises a bare Exception on load failure
            raise ModelError(
                f"libvosk could not load the {lang} model at {path}: {exc}",
                code=ErrorCode.MODEL_INVALID,
            ) from exc
        lexicon = ModelLexicon(model.vosk_model_find_word)
        log.info("loaded Vosk %s model %s", lang, path)
        return LoadedModel(lang, layout, model, lexicon)

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
        return self.model(lang).grammar(expect)

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
