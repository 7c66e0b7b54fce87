"""First component of the NLU pipeline: the IVR's one text normaliser (``ivr.text``) applied to
every message at training and at inference, so that ``/model/parse`` of recognizer-style text
("帮 我 转 人 工", "one two three four") reads like the training data.

``ivr.text`` is standard library only; the Rasa processes find it through ``PYTHONPATH`` (the
repository root; ``ivr serve``, ``ivr setup`` and the tests set it). Keypad/intent messages
("/rate{...}") are left alone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import ivr.text
from ivr.text import normalize


def _source_digest() -> str:
    """Changes whenever the normaliser's code does, so Rasa's training cache is not reused."""
    h = hashlib.sha256()
    for path in sorted(Path(ivr.text.__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class TextNormalizer(GraphComponent):
    """Rewrites ``message.text`` with :func:`ivr.text.normalize`."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TextNormalizer:
        return cls()

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return _source_digest()

    @staticmethod
    def _apply(message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str) and text and not text.startswith("/"):
            message.set(TEXT, normalize(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._apply(message)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._apply(message)
        return messages
