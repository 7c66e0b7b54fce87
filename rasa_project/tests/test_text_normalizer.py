"""The NLU pipeline's first component applies ivr.text.normalize at training and inference."""

from __future__ import annotations

from components.text_normalizer import TextNormalizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def _component() -> TextNormalizer:
    return TextNormalizer.create({}, None, None, None)  # type: ignore[arg-type]


def test_inference_messages_are_normalised() -> None:
    messages = [Message({TEXT: "帮 我 转 人 工"}), Message({TEXT: "one two three four"}),
                Message({TEXT: "/rate{\"rating\": 4}"}), Message({TEXT: ""}), Message({})]
    out = _component().process(messages)
    assert [m.get(TEXT) for m in out] == ["帮我转人工", "1234", "/rate{\"rating\": 4}", "", None]


def test_training_examples_are_normalised() -> None:
    data = TrainingData([Message({TEXT: "没有激活 怎么办", "intent": "faq_activation"}),
                         Message({TEXT: "不 满 意", "intent": "rate"})])
    out = _component().process_training_data(data)
    assert [m.get(TEXT) for m in out.training_examples] == ["没有激活怎么办", "不满意"]


def test_fingerprint_follows_the_normaliser_source() -> None:
    key = TextNormalizer.fingerprint_addon({})
    assert key and len(key) == 64 and key == TextNormalizer.fingerprint_addon({})
