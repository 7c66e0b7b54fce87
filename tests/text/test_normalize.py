"""The one normaliser: CJK joining, widths, spoken digits, final X — and nothing else."""

from __future__ import annotations

import pytest

from ivr.text import normalize

CASES = [
    # CJK words and characters a recognizer separated
    ("帮 我 转 人 工", "帮我转人工"),
    ("帮我 转 人工", "帮我转人工"),
    ("没有激活 怎么办", "没有激活怎么办"),
    ("不 满 意", "不满意"),
    ("我 的 账户 怎么 还 没 激活 啊", "我的账户怎么还没激活啊"),
    # latin words keep their spaces, also next to a CJK run
    ("i want to talk to a person", "i want to talk to a person"),
    ("我的 app 打不开", "我的 app 打不开"),
    ("App 里 怎么 改", "App 里怎么改"),
    ("[unk] 是 的", "[unk] 是的"),
    # full/half width
    ("１２３４", "1234"),
    ("好的，谢谢！", "好的,谢谢!"),
    ("ｙｅｓ", "yes"),
    ("是\u3000的", "是的"),
    # Chinese digit strings
    ("一 二 三 四", "1234"),
    ("一二三四", "1234"),
    ("幺 三 八", "138"),
    ("两 零 零 八", "2008"),
    ("零 零 零 零", "0000"),
    ("后四位是一二三四", "后四位是1234"),
    ("尾号 九 零 九 零", "尾号9090"),
    # ... but not words that hold a numeral, nor approximate counts
    ("一般", "一般"),
    ("一 般 吧", "一般吧"),
    ("等一下", "等一下"),
    ("两三天", "两三天"),
    ("一两次", "一两次"),
    ("七八个", "七八个"),
    ("五分", "五分"),
    ("五 分", "五分"),
    ("两分", "两分"),
    ("五", "五"),
    # English digit strings
    ("one two three four", "1234"),
    ("it's one two three four", "it's 1234"),
    ("double four", "44"),
    ("double four three two", "4432"),
    ("triple five one", "5551"),
    ("oh nine eight seven", "0987"),
    ("zero zero zero zero", "0000"),
    ("1 2 3 4", "1234"),
    ("one 2 three 4", "1234"),
    # ... single number words stay words
    ("four", "four"),
    ("I have one question", "I have one question"),
    ("oh no", "oh no"),
    ("oh one", "oh one"),
    ("give it a five", "give it a five"),
    ("four out of five", "four out of five"),
    # X at the end of an ID number
    ("三 五 七 叉", "357X"),
    ("三五七叉", "357X"),
    ("尾号357叉", "尾号357X"),
    ("one two three x", "123X"),
    ("one two three ex", "123X"),
    ("123 x", "123X"),
    ("123x", "123X"),
    ("x", "x"),
    ("12 x", "12 x"),
    ("an ex of mine", "an ex of mine"),
    # nothing else changes
    ("", ""),
    ("   ", ""),
    ("Hello, World?", "Hello, World?"),
    ("  two   spaces  ", "two spaces"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", [raw for raw, _ in CASES])
def test_normalize_is_idempotent(raw: str) -> None:
    once = normalize(raw)
    assert normalize(once) == once


def test_word_and_character_spacing_give_the_written_form() -> None:
    written = "我的账户怎么还没激活啊"
    words = "我 的 账户 怎么 还 没 激活 啊"
    chars = " ".join(written)
    assert normalize(words) == normalize(chars) == normalize(written) == written


@pytest.mark.parametrize(("raw", "expected"), [
    ("one, two, three, four", "1234"),
    ("It's one two three four.", "It's 1234."),
    ("one two three four, please", "1234, please"),
    ("Three six nine X.", "369X."),
    ("yes, one.", "yes, one."),
])
def test_written_punctuation_around_spoken_digits(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
