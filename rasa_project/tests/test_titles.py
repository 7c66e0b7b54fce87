"""The customer's title said in the call's language (pure: actions/titles.py)."""

from __future__ import annotations

import pytest

from actions.session import slots_from_metadata
from actions.titles import title_in


@pytest.mark.parametrize(("title", "lang", "name", "said"), [
    # Mandarin titles in an English call
    ("王先生", "en", "王强", "Mr. Wang"),
    ("李女士", "en", "李娜", "Ms. Li"),
    ("张小姐", "en", None, "Miss Zhang"),
    ("欧阳太太", "en", None, "Mrs. Ouyang"),
    ("吕先生", "en", None, "Mr. Lyu"),
    ("亓先生", "en", None, "the account holder"),  # a surname the table cannot spell
    ("张伟", "en", "张伟", "the account holder"),  # a bare Chinese name
    ("Smith先生", "en", None, "Mr. Smith"),
    # English titles in a Mandarin call
    ("Mr. Wang", "zh", None, "王先生"),
    ("mr wang", "zh", None, "王先生"),
    ("Ms. Chen", "zh", "Jamie Chen", "陈女士"),
    ("Mr. Wang", "zh", "汪伟", "汪先生"),  # the name written in Chinese decides the character
    ("Mr. Wang", "zh", "李伟", "王先生"),  # ... only when it is the same surname
    ("Mrs. Ouyang", "zh", None, "欧阳太太"),
    ("Mr. Smith", "zh", "Alex Smith", "Smith先生"),
    ("Dr. Brown", "zh", None, "Brown博士"),
    # already in the call's language, or neutral
    ("王先生", "zh", None, "王先生"),
    ("Mr. Smith", "en", None, "Mr. Smith"),
    ("Alex Smith", "zh", None, "Alex Smith"),
    ("申请人本人", "en", None, "the account holder"),
    ("the account holder", "zh", None, "申请人本人"),
    ("", "en", None, None),
    (None, "zh", None, None),
])
def test_title_in(title: str | None, lang: str, name: str | None, said: str | None) -> None:
    assert title_in(title, lang, name) == said


@pytest.mark.parametrize("title", ["王先生", "李女士", "欧阳太太", "Mr. Smith", "Ms. Chen",
                                   "Miss Zhang"])
def test_there_and_back_again(title: str) -> None:
    other = "en" if any("\u4e00" <= ch <= "\u9fff" for ch in title) else "zh"
    home = "zh" if other == "en" else "en"
    assert title_in(title_in(title, other), home) == title


@pytest.mark.parametrize(("meta", "title"), [
    ({"language": "en", "customer_title": "王先生", "customer_name": "王强"}, "Mr. Wang"),
    ({"language": "zh", "customer_title": "Ms. Chen", "customer_name": "Jamie Chen"}, "陈女士"),
    ({"language": "zh", "customer_title": "王先生"}, "王先生"),
    ({"language": "en", "customer_name": "王强"}, "the account holder"),
])
def test_a_call_placed_in_the_other_language_starts_with_the_title_in_it(
        meta: dict[str, str], title: str) -> None:
    assert slots_from_metadata(meta)["customer_title"] == title
