"""Which words a recognizer model knows, asked of the model itself.

Official Vosk models (and the shared test models) carry no ``graph/words.txt``: the word symbol
table is embedded in ``graph/Gr.fst`` and libvosk answers ``vosk_model_find_word`` (-1 for a
word it lacks). Answers are cached; the model is never asked twice for one word.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Protocol


class Lexicon(Protocol):
    """Answers whether a single recognizer word (one graph symbol) is in the vocabulary."""

    def knows(self, word: str) -> bool: ...


class ModelLexicon:
    """A ``Lexicon`` backed by a model's ``find_word`` (libvosk: symbol id, -1 when absent)."""

    def __init__(self, find_word: Callable[[str], int]) -> None:
        self._find_word = find_word
        self._cache: dict[str, bool] = {}
        self._lock = threading.Lock()

    def knows(self, word: str) -> bool:
        if not word or any(ch.isspace() for ch in word):
            return False
        with self._lock:
            known = self._cache.get(word)
            if known is None:
                known = self._find_word(word) >= 0
                self._cache[word] = known
        return known


class WordSet:
    """A ``Lexicon`` over a fixed set of words (tests, and models described by a list)."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(words)

    def knows(self, word: str) -> bool:
        return word in self._words
