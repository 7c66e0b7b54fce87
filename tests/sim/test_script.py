"""Caller scripts: loading, defaults, relative WAV paths and errors that name the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.core.errors import ConfigError, ErrorCode
from ivr.core.types import Language
from ivr.sim.script import CallerTurn, load_script


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "script.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_script(path)
    assert info.value.code is ErrorCode.CONFIG_INVALID
    return str(info.value)


def test_full_script(tmp_path: Path) -> None:
    path = write(
        tmp_path / "scripts" / "identity_yes",
        """
name: identity confirmed
lang: en
customer: {title: Mr Wang, id: 42}
expect: {outcome: completed, handoff: false, texts: [goodbye]}
turns:
  - say: "yes"
  - wav: clips/yes.wav
    barge_in_ms: 800
  - digits: "1#"
  - silence_ms: 7000
  - hangup: true
""",
    )
    script = load_script(path)
    assert script.name == "identity confirmed"
    assert script.lang is Language.EN
    assert script.customer == {"title": "Mr Wang", "id": "42"}
    assert script.expect == {"outcome": "completed", "handoff": False, "texts": ["goodbye"]}
    assert script.path == path
    assert script.turns[0] == CallerTurn(say="yes")
    assert script.turns[1].wav == path.parent / "clips" / "yes.wav"
    assert script.turns[1].barge_in_ms == 800 and script.turns[1].say is None
    assert script.turns[2].digits == "1#"
    assert script.turns[3].silence_ms == 7000
    assert script.turns[4].hangup is True
    assert len(script.turns) == 5


def test_defaults(tmp_path: Path) -> None:
    script = load_script(write(tmp_path / "wrong_party", "turns: []\n"))
    assert script.name == "wrong_party"  # the script's folder
    assert script.lang is Language.ZH
    assert script.turns == () and script.customer == {} and script.expect == {}


def test_turn_values_are_typed(tmp_path: Path) -> None:
    path = write(tmp_path, "turns:\n  - {say: 1234, digits: 1234, barge_in_ms: '300'}\n")
    turn = load_script(path).turns[0]
    assert turn.say == "1234" and turn.digits == "1234" and turn.barge_in_ms == 300
    assert turn.wav is None and turn.silence_ms == 0 and turn.hangup is False


def test_absolute_wav_path_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "turns:\n  - {wav: /data/yes.wav}\n")
    assert load_script(path).turns[0].wav == Path("/data/yes.wav")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "script.yaml"
    assert str(missing) in error(missing)


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "turns: [unclosed\n")
    assert str(path) in error(path)


@pytest.mark.parametrize("text", ["", "- say: hi\n", "turns: {say: hi}\n", "name: x\n"])
def test_needs_a_turns_list(tmp_path: Path, text: str) -> None:
    assert "'turns' list" in error(write(tmp_path, text))


def test_unknown_lang(tmp_path: Path) -> None:
    assert "'fr'" in error(write(tmp_path, "lang: fr\nturns: []\n"))


def test_turn_not_a_mapping_names_the_turn(tmp_path: Path) -> None:
    message = error(write(tmp_path, "turns:\n  - say: hi\n  - hello\n"))
    assert "turn 2" in message and "mapping" in message


def test_unknown_turn_key_names_turn_and_key(tmp_path: Path) -> None:
    message = error(write(tmp_path, "turns:\n  - {say: hi}\n  - {say: x}\n  - {sya: hi}\n"))
    assert "turn 3" in message and "sya" in message


@pytest.mark.parametrize(
    "turn", ["{barge_in_ms: soon}", "{silence_ms: [1]}", "{silence_ms: 1.5s}"]
)
def test_bad_number_names_the_turn(tmp_path: Path, turn: str) -> None:
    message = error(write(tmp_path, f"turns:\n  - {{say: hi}}\n  - {turn}\n"))
    assert "turn 2" in message


def test_a_turn_followed_by_a_pause_expects_no_reply(tmp_path: Path) -> None:
    from ivr.sim.dialogues import check
    from ivr.sim.phone import SimResult, TurnTiming

    path = tmp_path / "script.yaml"
    path.write_text("turns:\n  - digits: '12'\n  - digits: '34'\n    pause_ms: 1200\n"
                    "expect: {heard: ['[1234]']}\n", encoding="utf-8")
    script = load_script(path)
    assert script.turns[1].pause_ms == 1200
    result = SimResult("CA1", record={"turns": [{"role": "caller", "text": "[1234]"}],
                                      "counters": {}, "details": {}})
    result.turns = [TurnTiming(1, "dtmf", "12"), TurnTiming(2, "dtmf", "34", latency_ms=400)]
    assert not [p for p in check(script, result) if "no bot reply" in p]
    result.turns[1].latency_ms = None
    assert "no bot reply heard after caller turn 2" in check(script, result)


def test_a_turn_after_a_language_switch_names_its_language(tmp_path: Path) -> None:
    path = write(tmp_path / "switch", "lang: zh\nmodels: v2\nturns:\n  - say: 说英文\n"
                                      "  - {say: 'yes', lang: en}\n")
    script = load_script(path)
    assert script.models == "v2"
    assert script.turns[0].lang is None and script.turns[1].lang is Language.EN
    assert load_script(write(tmp_path / "plain", "turns: []\n")).models == ""


def test_turn_voices_follow_the_turns_language(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`ivr fixtures` renders each turn in its own language's voice (espeak-ng replaced by a
    recorder here; tests/e2e decodes the real renders)."""
    from ivr.sim import fixtures

    rendered: list[tuple[str, Language]] = []

    def fake_render(text: str, lang: Language, out: Path) -> None:
        rendered.append((text, lang))
        out.write_bytes(b"RIFF")

    monkeypatch.setattr(fixtures, "render_phrase", fake_render)
    path = write(tmp_path / "switch", "lang: zh\nturns:\n  - {say: 说英文, wav: 01.wav}\n"
                                      "  - {say: 'yes', wav: 02.wav, lang: en}\n")
    assert fixtures.synthesize_script(path) == 2
    assert rendered == [("说英文", Language.ZH), ("yes", Language.EN)]
    assert fixtures.synthesize_script(path) == 0  # stamped: not rendered again
