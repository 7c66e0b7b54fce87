"""Jieba tokenization without the whitespace and punctuation tokens.

Rasa's tokenizers keep a token that their ``token_pattern`` does not match at all, so with the
stock JiebaTokenizer "No thank you." yields ``No, ' ', thank, ' ', you, '.'`` while the
recognizer's "no thank you" yields no "." and no spaces: punctuation then changed the features
and the intent of text as written. Here only tokens with a word character are kept (the
``token_pattern`` split still applies), so written text, recognizer word spacing and character
spacing (joined by the TextNormalizer before this) are featurized alike.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

_WORD = re.compile(r"\w")


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class WordTokenizer(JiebaTokenizer):
    """JiebaTokenizer that drops tokens without a word character."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        return [t for t in super().tokenize(message, attribute) if _WORD.search(t.text)]
