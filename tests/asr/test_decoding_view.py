"""The decoding view: a model's decoding options set without touching the model, and what
small acoustic-model chunks do to the first partial word (real libvosk, shared test model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vosk

from ivr.asr.decoding_view import DecodingOptions, decoding_view, model_conf_with
from ivr.audio.resample import FirUpsampler
from ivr.sim.wavio import read_wav_8k, voiced_span_ms

ROOT = Path(__file__).resolve().parents[2]
SHARED_EN = ROOT.parent / "shared" / "models" / "tiny-en"


def make_model(root: Path, conf: str = "--beam=13.0\n--frames-per-chunk=50\n") -> Path:
    (root / "am").mkdir(parents=True)
    (root / "am" / "final.mdl").write_text("am")
    (root / "graph").mkdir()
    (root / "conf").mkdir()
    (root / "conf" / "mfcc.conf").write_text("--sample-frequency=16000\n")
    (root / "conf" / "model.conf").write_text(conf)
    return root


def test_no_option_loads_the_model_itself(tmp_path: Path) -> None:
    model = make_model(tmp_path / "m")
    assert decoding_view(model, tmp_path / "views", DecodingOptions()) == model
    assert not (tmp_path / "views").exists()


def test_view_links_the_model_and_sets_the_option(tmp_path: Path) -> None:
    model = make_model(tmp_path / "m")
    before = (model / "conf" / "model.conf").read_text()
    view = decoding_view(model, tmp_path / "views", DecodingOptions(frames_per_chunk=6))
    assert view.parent == tmp_path / "views" and view.name.startswith("m-")
    assert (view / "am").is_symlink() and (view / "am" / "final.mdl").read_text() == "am"
    assert (view / "conf" / "mfcc.conf").is_symlink()
    assert (view / "conf" / "model.conf").read_text().splitlines() == [
        "--beam=13.0", "--frames-per-chunk=6"]  # the model's own value replaced
    assert (model / "conf" / "model.conf").read_text() == before  # the model is untouched
    # built once; another value is another view
    assert decoding_view(model, tmp_path / "views", DecodingOptions(frames_per_chunk=6)) == view
    other = decoding_view(model, tmp_path / "views", DecodingOptions(frames_per_chunk=9))
    assert other != view and "--frames-per-chunk=9" in (other / "conf" / "model.conf").read_text()
    assert sorted(p.name for p in (tmp_path / "views").iterdir()) == sorted([view.name, other.name])


def test_model_conf_with_keeps_every_other_line() -> None:
    assert model_conf_with("--a=1\n\n--frames-per-chunk=20\n--b=2", {"frames-per-chunk": "6"}) \
        == "--a=1\n--b=2\n--frames-per-chunk=6\n"
    with pytest.raises(ValueError):
        DecodingOptions(frames_per_chunk=2)


def _first_partial_ms(model_dir: Path, lead_ms: int) -> tuple[int | None, str]:
    """Feed a fixture utterance after ``lead_ms`` of silence, 20 ms at a time as a call does;
    ms from the voice's onset to the first partial with a word, and the final text."""
    vosk.SetLogLevel(-1)
    pcm = read_wav_8k(ROOT / "audio" / "fixtures" / "en" / "barge_in_faq" / "05.wav")
    onset = lead_ms + voiced_span_ms(pcm)[0]
    line = bytes(lead_ms * 16) + pcm + bytes(8000)
    up, rec = FirUpsampler(8000, 16000), vosk.KaldiRecognizer(vosk.Model(str(model_dir)), 16000)
    first = None
    for i in range(0, len(line), 320):
        rec.AcceptWaveform(up.process(line[i:i + 320]))
        if first is None and json.loads(rec.PartialResult())["partial"]:
            first = (i // 320 + 1) * 20 - onset
    return first, json.loads(rec.FinalResult())["text"]


def test_small_chunks_show_the_first_word_sooner_with_the_same_text(tmp_path: Path) -> None:
    """Where the recognizer's chunk boundaries fall depends on how much audio it had before the
    word; with the default 20-frame chunks the first partial word comes 210–410 ms after the
    onset, with 6-frame chunks 210–260 ms, whatever the lead."""
    view = decoding_view(SHARED_EN, tmp_path, DecodingOptions(frames_per_chunk=6))
    default, small = [], []
    for lead in range(100, 451, 50):
        default_ms, default_text = _first_partial_ms(SHARED_EN, lead)
        small_ms, small_text = _first_partial_ms(view, lead)
        assert small_text == default_text == "nothing else"
        assert default_ms is not None and small_ms is not None
        default.append(default_ms)
        small.append(small_ms)
    assert max(small) <= 260 and max(default) >= 350, (small, default)
    assert all(s <= d for s, d in zip(small, default, strict=True))


def test_engine_loads_through_the_view_and_decodes(tmp_path: Path) -> None:
    from ivr.asr.vosk_engine import VoskEngine
    from ivr.core.types import Expectation, Language

    with pytest.raises(ValueError):
        VoskEngine({Language.EN: SHARED_EN}, DecodingOptions(frames_per_chunk=6))
    engine = VoskEngine({Language.EN: SHARED_EN}, DecodingOptions(frames_per_chunk=6), tmp_path)
    [view] = list(tmp_path.iterdir())
    assert "--frames-per-chunk=6" in (view / "conf" / "model.conf").read_text()
    pcm = read_wav_8k(ROOT / "audio" / "fixtures" / "en" / "barge_in_faq" / "05.wav")
    stream = engine.open_stream(Language.EN, Expectation.OPEN, 16000)
    stream.accept(FirUpsampler(8000, 16000).process(pcm + bytes(8000)))
    assert stream.finish().text == "nothing else"
