"""The held-out NLU set is large enough, names real intents, and is never trained on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ivr.text import normalize

PROJECT = Path(__file__).resolve().parents[2] / "rasa_project"
HELDOUT = PROJECT / "tests" / "heldout.yml"
FRESH = PROJECT / "tests" / "heldout_fresh.yml"  # the second set, reported not gated
MIN_PER_LANGUAGE = 300


def _key(text: str) -> str:
    return re.sub(r"[^\w\[\]']", "", normalize(text).lower())


def _training() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted((PROJECT / "data").glob("nlu*.yml")):  # nlu.yml, nlu_promises.yml
        intent = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*- intent: (\S+)", line)
            if m:
                intent = m.group(1)
            elif intent and re.match(r"\s{6}- ", line):
                out[_key(line.strip()[2:])] = intent
    return out


def _heldout(path: Path = HELDOUT) -> list[tuple[str, str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = []
    for lang, intents in data.items():
        for intent, items in intents.items():
            for item in items:
                rows.append((lang, intent, item if isinstance(item, str) else item["text"]))
    return rows


def test_heldout_is_big_enough_in_both_languages() -> None:
    rows = _heldout()
    for lang in ("zh", "en"):
        assert sum(1 for r in rows if r[0] == lang) >= MIN_PER_LANGUAGE, lang


def test_heldout_intents_exist_and_are_all_covered() -> None:
    domain = yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))
    trained = set(_training().values())
    used = {intent for _, intent, _ in _heldout()}
    assert used <= set(domain["intents"])
    assert {intent for _, intent, _ in _heldout(FRESH)} <= set(domain["intents"])
    assert used == trained  # every trained intent is evaluated


@pytest.mark.parametrize("path", [HELDOUT, FRESH], ids=["heldout", "fresh"])
def test_no_heldout_utterance_is_a_training_example(path: Path) -> None:
    training = _training()
    leaked = [(text, intent) for _, intent, text in _heldout(path) if _key(text) in training]
    assert not leaked, f"held-out utterances also in data/nlu*.yml: {leaked}"
