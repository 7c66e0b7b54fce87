"""The pipeline's tokenizer drops whitespace and punctuation tokens (written text = spoken)."""

from __future__ import annotations

import pytest
from components.word_tokenizer import WordTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message


def _tokens(text: str) -> list[str]:
    tokenizer = WordTokenizer(
        {**WordTokenizer.get_default_config(), "token_pattern": r"(?u)\b\w+\b"},
        None, None)  # type: ignore[arg-type]
    return [t.text for t in tokenizer.tokenize(Message({TEXT: text}), TEXT)]


@pytest.mark.parametrize(("written", "spoken"), [
    ("No thank you.", "No thank you"), ("I don't know!", "I don t know"),
    ("好的,谢谢!", "好的 谢谢"), ("嗯……那个……", "嗯 那个"),
])
def test_punctuation_and_spaces_make_no_tokens(written: str, spoken: str) -> None:
    assert _tokens(written) == _tokens(spoken)
    assert all(t.strip() and t not in {".", ",", "!", "…"} for t in _tokens(written))
