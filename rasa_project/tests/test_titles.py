"""The customer's title said in the call's language (pure: actions/titles.py)."""

from __future__ import annotations

import pytest

from actions.session import slots_from_metadata
from actions.texts import readback
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


@pytest.mark.parametrize(("record", "lang", "said", "never"), [
    ({"name": "张伟", "city": "上海"}, "en", "name, family name Zhang; address in Shanghai", "张"),
    ({"name": "亓伟", "city": "乌鲁木齐"}, "en",
     "name, as registered; address in the city on file", "亓"),
    ({"name": "Alex Smith", "city": "Shanghai"}, "zh", "姓名 A. Smith;地址所在城市 上海", "Shanghai"),
    ({"name": "张伟", "city": "上海"}, "zh", "姓名 张某;地址所在城市 上海", "Zhang"),
    ({"name": "Alex Smith", "city": "London"}, "en", "name, A. Smith; address in London", "某"),
])
def test_the_read_back_says_name_and_city_in_the_calls_language(
        record: dict[str, str], lang: str, said: str, never: str) -> None:
    """Seen on the real stack after "说英文": "name, 张某; ... address in 上海" in English."""
    text, fields = readback(record, lang)
    assert text == said and never not in text
    assert fields == ["name", "city"]
