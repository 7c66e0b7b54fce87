"""System prompts spoken by the IVR itself (not by the dialogue), loaded from the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from ivr.core.errors import ConfigError
from ivr.core.types import Language

MANIFEST = Path(__file__).resolve().parents[2] / "audio" / "prompts.yaml"


class SystemPrompt(StrEnum):
    UNAVAILABLE = "unavailable"
    TECHNICAL_ERROR = "technical_error"
    STILL_THERE = "still_there"
    NO_INPUT_GOODBYE = "no_input_goodbye"
    NO_MATCH = "no_match"
    NO_AGENT = "no_agent"
    QUEUE_POSITION = "queue_position"
    TRANSFER_CONNECTING = "transfer_connecting"
    TRANSFER_FAILED = "transfer_failed"
    QUEUE_TIMEOUT = "queue_timeout"
    NO_INPUT_HANDOFF = "no_input_handoff"
    MAX_DURATION_GOODBYE = "max_duration_goodbye"
    OPENING = "opening"
    RECORDING_NOTICE = "recording_notice"


@dataclass(frozen=True)
class PromptBook:
    texts: dict[tuple[SystemPrompt, Language], str]

    def text(self, prompt: SystemPrompt, lang: Language) -> str:
        return self.texts[(prompt, lang)]

    def all(self) -> list[tuple[str, Language]]:
        """Every fixed text (templates with ``{…}`` placeholders are rendered on use)."""
        return [(text, lang) for (_, lang), text in sorted(self.texts.items()) if "{" not in text]


def load_prompts(path: Path = MANIFEST) -> PromptBook:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"prompt manifest {path}: {exc}") from exc
    texts: dict[tuple[SystemPrompt, Language], str] = {}
    for prompt in SystemPrompt:
        entry = raw.get(prompt.value) if isinstance(raw, dict) else None
        for lang in Language:
            text = entry.get(lang.value) if isinstance(entry, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"prompt manifest {path}: {prompt.value}.{lang.value} missing")
            texts[(prompt, lang)] = text.strip()
    return PromptBook(texts)
