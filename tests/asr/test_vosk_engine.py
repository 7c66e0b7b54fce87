"""Real decoding with libvosk and the tiny models on espeak-ng callers (telephone path)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.asr.base import AsrResult
from ivr.asr.vosk_engine import VoskEngine, VoskStream
from ivr.core.audio import ASR_RATE, frame_bytes
from ivr.core.errors import AsrError, ErrorCode, ModelError
from ivr.core.types import Expectation, Language
from tests.asr.conftest import model_dirs

Synth = Callable[[Language, str], bytes]

ZH, EN = Language.ZH, Language.EN
OPEN, YES_NO = Expectation.OPEN, Expectation.YES_NO
DIGITS, RATING = Expectation.DIGITS, Expectation.RATING


def stream_20ms(stream: VoskStream, pcm: bytes) -> tuple[list[AsrResult], AsrResult]:
    step = frame_bytes(ASR_RATE)
    partials = [r for i in range(0, len(pcm), step) if (r := stream.accept(pcm[i : i + step]))]
    return partials, stream.finish()


def recognize(
    engine: VoskEngine, synth: Synth, lang: Language, expect: Expectation, text: str
) -> tuple[list[AsrResult], AsrResult]:
    return stream_20ms(engine.open_stream(lang, expect, ASR_RATE), synth(lang, text))


OPEN_CASES = [
    (ZH, "没有激活 怎么办"),
    (ZH, "交易记录 在哪里"),
    (ZH, "支付失败"),
    (ZH, "修改信息 手机号"),
    (ZH, "账户安全"),
    (EN, "payment failed"),
    (EN, "account not activated"),
    (EN, "change phone number"),
    (EN, "where transactions history"),
    (EN, "bank card stolen"),
]


@pytest.mark.parametrize(("lang", "text"), OPEN_CASES)
def test_open_vocabulary(engine: VoskEngine, synth: Synth, lang: Language, text: str) -> None:
    partials, final = recognize(engine, synth, lang, OPEN, text)
    assert final.is_final
    assert final.text == text
    assert [w.word for w in final.words] == text.split()
    assert all(0 <= w.start < w.end for w in final.words)
    assert final.confidence is not None and 0.0 < final.confidence <= 1.0
    assert partials, "partials must appear before the final"
    assert all(not p.is_final for p in partials)
    assert partials[-1].text == text or text.startswith(partials[-1].text)


GRAMMAR_CASES = [
    (ZH, YES_NO, "是", "是"),
    (ZH, YES_NO, "不是", "不是"),
    (ZH, YES_NO, "没错", "没错"),
    (ZH, YES_NO, "转人工", "转人工"),
    (ZH, YES_NO, "再说一遍", "再说一遍"),
    (ZH, DIGITS, "一 二 三 四", "一 二 三 四"),
    (ZH, DIGITS, "九 八 七 零", "九 八 七 零"),
    (ZH, RATING, "五分", "五 分"),
    (ZH, RATING, "非常满意", "非常满意"),
    (ZH, RATING, "三", "三"),
    (EN, YES_NO, "yes", "yes"),
    (EN, YES_NO, "no", "no"),
    (EN, YES_NO, "agent", "agent"),
    (EN, YES_NO, "repeat", "repeat"),
    (EN, DIGITS, "one two three four", "one two three four"),
    (EN, DIGITS, "nine zero five", "nine zero five"),
    (EN, RATING, "five", "five"),
    (EN, RATING, "very satisfied", "very satisfied"),
]


@pytest.mark.parametrize(("lang", "expect", "spoken", "expected"), GRAMMAR_CASES)
def test_grammar_mode(
    engine: VoskEngine,
    synth: Synth,
    lang: Language,
    expect: Expectation,
    spoken: str,
    expected: str,
) -> None:
    stream = engine.open_stream(lang, expect, ASR_RATE)
    assert stream.grammar is not None and "[unk]" in stream.grammar
    _, final = stream_20ms(stream, synth(lang, spoken))
    assert final.text == expected


def test_grammar_rejects_out_of_grammar_speech(engine: VoskEngine, synth: Synth) -> None:
    stream = engine.open_stream(EN, DIGITS, ASR_RATE)
    assert stream.grammar is not None
    _, final = stream_20ms(stream, synth(EN, "payment failed"))
    assert not set(final.text.split()) & {"payment", "failed"}
    assert set(final.text.split()) <= {w for phrase in stream.grammar for w in phrase.split()}


def test_open_stream_uses_grammar_only_for_closed_states(engine: VoskEngine) -> None:
    assert engine.open_stream(ZH, OPEN, ASR_RATE).grammar is None
    for expect in (YES_NO, DIGITS, RATING):
        grammar = engine.open_stream(ZH, expect, ASR_RATE).grammar
        assert grammar is not None
        model = engine.model(ZH)
        assert all(model.knows(word) for phrase in grammar for word in phrase.split())


def test_vocabulary_is_asked_of_the_model(engine: VoskEngine) -> None:
    """The shared models have no words.txt: the words come from libvosk's find_word."""
    zh, en = engine.model(ZH), engine.model(EN)
    assert zh.knows("不满意") and zh.knows("转人工") and zh.knows("[unk]")
    assert not zh.knows("很满意") and not zh.knows("不 满意")
    assert en.knows("satisfied") and en.knows("[unk]") and not en.knows("excellent")
    grammar = engine.grammar(ZH, RATING)
    assert grammar is not None and "五 分" in grammar and "很满意" not in grammar


def test_unfitted_phrases_are_logged_once_per_model(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fresh = VoskEngine({EN: model_dirs()[EN]})
    with caplog.at_level(logging.INFO, logger="ivr.asr.vosk_engine"):
        for _ in range(3):
            fresh.open_stream(EN, RATING, ASR_RATE)
    lines = [r.getMessage() for r in caplog.records if "'excellent'" in r.getMessage()]
    assert len(lines) == 1 and "tiny-en" in lines[0] and "rating" in lines[0]


def test_8khz_stream(engine: VoskEngine, synth: Synth) -> None:
    from ivr.audio.resample import resample

    pcm8 = resample(synth(ZH, "没有激活 怎么办"), ASR_RATE, 8000)
    stream = engine.open_stream(ZH, OPEN, 8000)
    step = frame_bytes(8000)
    for i in range(0, len(pcm8), step):
        stream.accept(pcm8[i : i + step])
    assert stream.finish().text == "没有激活 怎么办"


def test_one_recognizer_per_stream(engine: VoskEngine, synth: Synth) -> None:
    a = engine.open_stream(EN, OPEN, ASR_RATE)
    b = engine.open_stream(EN, OPEN, ASR_RATE)
    pa, pb = synth(EN, "payment failed"), synth(EN, "bank card stolen")
    step = frame_bytes(ASR_RATE)
    for i in range(0, max(len(pa), len(pb)), step):  # interleaved, as two calls would be
        a.accept(pa[i : i + step])
        b.accept(pb[i : i + step])
    assert a.finish().text == "payment failed"
    assert b.finish().text == "bank card stolen"


def test_long_stream_keeps_segments(engine: VoskEngine, synth: Synth) -> None:
    """Vosk may finalize segments itself after a pause; the stream joins them."""
    silence = bytes(frame_bytes(ASR_RATE, 1500))
    audio = synth(EN, "payment failed") + silence + synth(EN, "bank card stolen")
    stream = engine.open_stream(EN, OPEN, ASR_RATE)
    partials, final = stream_20ms(stream, audio)
    assert final.text == "payment failed bank card stolen"
    assert len(final.words) == 5
    assert final.words[-1].start > final.words[1].end
    assert any(p.text.startswith("payment failed bank") for p in partials)


def test_finished_stream_refuses_audio(engine: VoskEngine) -> None:
    stream = engine.open_stream(EN, OPEN, ASR_RATE)
    assert stream.finish().text == ""
    with pytest.raises(AsrError):
        stream.accept(bytes(640))
    with pytest.raises(AsrError):
        stream.finish()


def test_real_time_factor(engine: VoskEngine, synth: Synth) -> None:
    audio_s = 0.0
    busy_s = 0.0
    for lang, text in OPEN_CASES:
        pcm = synth(lang, text)
        stream = engine.open_stream(lang, OPEN, ASR_RATE)
        started = time.perf_counter()
        stream_20ms(stream, pcm)
        busy_s += time.perf_counter() - started
        audio_s += len(pcm) / 2 / ASR_RATE
    rtf = busy_s / audio_s
    print(f"\nVosk tiny models, 20 ms chunks: {audio_s:.1f} s audio, RTF {rtf:.4f}")
    assert rtf < 0.5


# --- model loading errors --------------------------------------------------------------------


def test_missing_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found") as info:
        VoskEngine({ZH: tmp_path / "nope"})
    assert info.value.code is ErrorCode.MODEL_MISSING
    assert str(tmp_path / "nope") in str(info.value)


def test_unloadable_model_is_a_model_error(tmp_path: Path) -> None:
    for rel in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"garbage")
    with pytest.raises(ModelError, match="could not load") as info:
        VoskEngine({EN: tmp_path})
    assert info.value.code is ErrorCode.MODEL_INVALID


def test_unconfigured_language(engine: VoskEngine) -> None:
    only_en = VoskEngine({EN: engine.model(EN).layout.path})
    assert only_en.languages == {EN}
    with pytest.raises(ModelError, match="zh"):
        only_en.open_stream(ZH, OPEN, ASR_RATE)
    with pytest.raises(ModelError):
        VoskEngine({})
