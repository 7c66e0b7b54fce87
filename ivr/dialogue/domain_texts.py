"""Fixed (slot-free) spoken texts of the Rasa domain, with their language, for pre-rendering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ivr.core.types import Language

_SLOT = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*\}")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _language(variation: dict[str, Any], text: str) -> Language:
    for cond in variation.get("condition") or []:
        if isinstance(cond, dict) and cond.get("name") == "language":
            try:
                return Language(str(cond.get("value")))
            except ValueError:
                break
    return Language.ZH if _HAN.search(text) else Language.EN


def fixed_responses(domain: Path) -> list[tuple[str, Language]]:
    raw = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    found: list[tuple[str, Language]] = []
    for variations in (raw.get("responses") or {}).values():
        for variation in variations or []:
            if not isinstance(variation, dict):
                continue
            texts = [variation.get("text")]
            custom = variation.get("custom")
            if isinstance(custom, dict):
                texts.append(custom.get("say"))
            for text in texts:
                if isinstance(text, str) and text.strip() and not _SLOT.search(text):
                    found.append((text.strip(), _language(variation, text)))
    return sorted(set(found))
