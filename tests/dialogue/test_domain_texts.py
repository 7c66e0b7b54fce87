"""Fixed (slot-free) response texts of the Rasa domain, with their language."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ivr.config import ROOT
from ivr.core.types import Language
from ivr.dialogue.domain_texts import fixed_responses

DOMAIN = ROOT / "rasa_project" / "domain.yml"
HAN = re.compile(r"[\u4e00-\u9fff]")


def write_domain(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "domain.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_domain_fixed_texts() -> None:
    found = fixed_responses(DOMAIN)
    assert found == sorted(set(found)), "sorted, no duplicates"
    pairs = set(found)
    assert ("好的,谢谢您!", Language.ZH) in pairs
    assert ("Great, thanks for confirming.", Language.EN) in pairs
    assert ("Sure, go ahead.", Language.EN) in pairs
    # `custom.say` texts (the uninterruptible privacy notice) are spoken too.
    raw = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    notice = raw["responses"]["utter_privacy_notice"]
    assert (notice[0]["custom"]["say"], Language.ZH) in pairs
    assert (notice[1]["custom"]["say"], Language.EN) in pairs


def test_project_domain_excludes_slot_templates_and_labels_languages() -> None:
    found = fixed_responses(DOMAIN)
    texts = {text for text, _ in found}
    assert not any("{" in text for text in texts)
    raw = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    templated = {v["text"] for v in raw["responses"]["utter_ask_identity"]}
    assert templated and not templated & texts
    for text, lang in found:
        assert (lang is Language.ZH) == bool(HAN.search(text)), (text, lang)
    # The domain's convention: the unconditional variation is Mandarin, `language == en` English.
    expected = set()
    for variations in raw["responses"].values():
        for variation in variations:
            conditions = variation.get("condition") or []
            lang = Language.EN if any(c.get("value") == "en" for c in conditions) else Language.ZH
            for text in (variation.get("text"), (variation.get("custom") or {}).get("say")):
                if isinstance(text, str) and "{" not in text:
                    expected.add((text.strip(), lang))
    assert set(found) == expected
    assert min(sum(1 for _, x in found if x is lang) for lang in Language) > 5


def test_condition_decides_language_over_script(tmp_path: Path) -> None:
    domain = write_domain(
        tmp_path,
        """
responses:
  utter_brand:
    - text: "Welcome to 数字钱包."
      condition:
        - type: slot
          name: language
          value: en
    - text: "OK"
      condition:
        - type: slot
          name: language
          value: zh
    - text: "Plain English default"
    - text: "默认中文"
""",
    )
    assert sorted(fixed_responses(domain)) == sorted(
        [
            ("Welcome to 数字钱包.", Language.EN),
            ("OK", Language.ZH),
            ("Plain English default", Language.EN),
            ("默认中文", Language.ZH),
        ]
    )


def test_unknown_language_condition_falls_back_to_script(tmp_path: Path) -> None:
    domain = write_domain(
        tmp_path,
        """
responses:
  utter_x:
    - text: "Bonjour"
      condition: [{type: slot, name: language, value: fr}]
    - text: "你好"
      condition: [{type: slot, name: customer_tier, value: gold}]
""",
    )
    assert fixed_responses(domain) == [("Bonjour", Language.EN), ("你好", Language.ZH)]


def test_slot_templates_text_and_say_are_excluded(tmp_path: Path) -> None:
    domain = write_domain(
        tmp_path,
        """
responses:
  utter_a:
    - text: "Hello {customer_name}"
    - custom: {say: "您好,{customer_title}", uninterruptible: true}
    - text: "  Hello there  "
      custom: {say: "Please hold.", uninterruptible: true}
    - custom: {expect: yes_no}
    - text: ""
    - "not a mapping"
  utter_b:
  utter_c:
    - text: "Hello there"
""",
    )
    assert fixed_responses(domain) == [
        ("Hello there", Language.EN),
        ("Please hold.", Language.EN),
    ]


def test_domain_without_responses(tmp_path: Path) -> None:
    assert fixed_responses(write_domain(tmp_path, "version: '3.1'\n")) == []
    assert fixed_responses(write_domain(tmp_path, "")) == []
