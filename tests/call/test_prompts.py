"""System prompt manifest: every prompt in every language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.call.prompts import MANIFEST, SystemPrompt, load_prompts
from ivr.config import ROOT
from ivr.core.errors import ConfigError, ErrorCode
from ivr.core.types import Language

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_manifest_is_the_project_file() -> None:
    assert MANIFEST == ROOT / "audio" / "prompts.yaml"


def test_project_manifest_is_complete() -> None:
    book = load_prompts()
    assert set(book.texts) == {(p, lang) for p in SystemPrompt for lang in Language}
    for (prompt, lang), text in book.texts.items():
        assert text == text.strip() and text, (prompt, lang)
        assert bool(HAN.search(text)) == (lang is Language.ZH), (prompt, lang, text)
    assert book.text(SystemPrompt.STILL_THERE, Language.EN) == "Hello, are you still there?"
    assert book.text(SystemPrompt.STILL_THERE, Language.ZH) == "您好,请问您还在吗?"


def test_all_lists_every_fixed_text_with_its_language() -> None:
    book = load_prompts()
    listed = book.all()
    fixed = {(text, lang) for (_, lang), text in book.texts.items() if "{" not in text}
    assert len(listed) == len(fixed) and set(listed) == fixed
    assert len(fixed) >= 12


def test_all_leaves_out_templates(tmp_path: Path) -> None:
    path = tmp_path / "prompts.yaml"
    path.write_text(full_manifest().replace("'  no_agent in en  '", "'{n} agents busy'"),
                    encoding="utf-8")
    book = load_prompts(path)
    assert book.text(SystemPrompt.NO_AGENT, Language.EN) == "{n} agents busy"
    assert ("{n} agents busy", Language.EN) not in book.all()
    assert ("no_agent in zh", Language.ZH) in book.all()
    assert len(book.all()) == len(SystemPrompt) * len(Language) - 1


def full_manifest(skip: tuple[str, str] | None = None) -> str:
    lines = []
    for prompt in SystemPrompt:
        lines.append(f"{prompt.value}:")
        for lang in Language:
            if (prompt.value, lang.value) != skip:
                lines.append(f"  {lang.value}: '  {prompt.value} in {lang.value}  '")
    return "\n".join(lines) + "\n"


def test_custom_manifest_texts_are_stripped(tmp_path: Path) -> None:
    path = tmp_path / "prompts.yaml"
    path.write_text(full_manifest(), encoding="utf-8")
    book = load_prompts(path)
    assert book.text(SystemPrompt.NO_AGENT, Language.EN) == "no_agent in en"


def test_missing_entry_names_prompt_and_language(tmp_path: Path) -> None:
    path = tmp_path / "prompts.yaml"
    path.write_text(full_manifest(skip=("no_match", "en")), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_prompts(path)
    assert "no_match.en" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["", "- a\n- b\n", "unavailable: just one text\n", "unavailable:\n  zh: '   '\n"],
    ids=["empty", "list", "not-per-language", "blank"],
)
def test_malformed_manifest(tmp_path: Path, text: str) -> None:
    path = tmp_path / "prompts.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_prompts(path)
    assert "unavailable.zh" in str(info.value)
    assert info.value.code is ErrorCode.CONFIG_INVALID


def test_unreadable_or_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_prompts(tmp_path / "missing.yaml")
    assert "missing.yaml" in str(info.value)
    bad = tmp_path / "bad.yaml"
    bad.write_text("unavailable: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_prompts(bad)
    assert info.value.__cause__ is not None


def test_the_opening_is_the_dialogues_opening() -> None:
    """The IVR speaks the opening and the recording notice early and skips the dialogue's
    identical utterances; the notice is the dialogue's uninterruptible `say`."""
    import yaml

    domain = yaml.safe_load((ROOT / "rasa_project" / "domain.yml").read_text(encoding="utf-8"))
    variants = domain["responses"]["utter_opening"]
    texts = {Language.EN if v.get("condition") else Language.ZH:
             (v["text"], v["custom"]["say"], v["custom"]["uninterruptible"]) for v in variants}
    book = load_prompts()
    assert texts == {lang: (book.text(SystemPrompt.OPENING, lang),
                            book.text(SystemPrompt.RECORDING_NOTICE, lang), True)
                     for lang in Language}


def test_the_recording_notice_is_short_and_the_later_notice_does_not_repeat_it() -> None:
    import yaml

    domain = yaml.safe_load((ROOT / "rasa_project" / "domain.yml").read_text(encoding="utf-8"))
    book = load_prompts()
    assert "录音" in book.text(SystemPrompt.RECORDING_NOTICE, Language.ZH)
    assert "recorded" in book.text(SystemPrompt.RECORDING_NOTICE, Language.EN)
    later = " ".join(v["custom"]["say"] for v in domain["responses"]["utter_privacy_notice"])
    assert "录音" not in later and "record" not in later


def test_queue_position_is_right_for_the_first_caller_in_both_languages() -> None:
    book = load_prompts()
    first_zh = book.text(SystemPrompt.QUEUE_POSITION, Language.ZH).format(n=1)
    first_en = book.text(SystemPrompt.QUEUE_POSITION, Language.EN).format(n=1)
    assert "前面还有1位" not in first_zh and "第1位" in first_zh  # nobody is ahead of them
    assert "number 1" in first_en
