from ivr.core.types import Language
from ivr.tts.text import normalize_for_speech, split_sentences


def test_split_zh_keeps_punctuation() -> None:
    text = "您好，这里是数字钱包客服中心。请问您是张先生吗？我们发现一笔异常交易！"
    assert split_sentences(text, Language.ZH) == [
        "您好，这里是数字钱包客服中心。",
        "请问您是张先生吗？",
        "我们发现一笔异常交易！",
    ]


def test_split_zh_semicolon_ellipsis_and_closing_quote() -> None:
    text = "请稍等……我们正在为您查询；“确认吗？”请回答是或不是"
    # "请稍等……" and "“确认吗？”" are too short to stand alone and join the next sentence.
    assert split_sentences(text, Language.ZH) == [
        "请稍等……我们正在为您查询；",
        "“确认吗？”请回答是或不是",
    ]


def test_split_zh_merges_short_fragments() -> None:
    assert split_sentences("好的。请稍等，正在为您转接。谢谢。", Language.ZH) == [
        "好的。请稍等，正在为您转接。谢谢。"
    ]
    assert split_sentences("好的。请您稍等一下。", Language.ZH) == ["好的。请您稍等一下。"]


def test_split_en_keeps_punctuation_and_decimals() -> None:
    text = "Hello, this is the wallet service. Your balance is 12.5 dollars! Is that right?"
    assert split_sentences(text, Language.EN) == [
        "Hello, this is the wallet service.",
        "Your balance is 12.5 dollars!",
        "Is that right?",
    ]


def test_split_en_abbreviations_and_short_fragments() -> None:
    text = "Please call Dr. Smith, e.g. tomorrow morning. Ok. Thank you for waiting; goodbye."
    assert split_sentences(text, Language.EN) == [
        "Please call Dr. Smith, e.g. tomorrow morning.",
        "Ok. Thank you for waiting; goodbye.",
    ]


def test_split_empty_and_no_terminator() -> None:
    assert split_sentences("   ", Language.EN) == []
    assert split_sentences("no terminator here", Language.EN) == ["no terminator here"]


def test_digits_spoken_one_by_one() -> None:
    assert normalize_for_speech("尾号5678的卡", Language.ZH) == "尾号5 6 7 8的卡"
    assert normalize_for_speech("card ending 5678.", Language.EN) == "card ending 5 6 7 8."


def test_grouped_and_decimal_numbers() -> None:
    assert normalize_for_speech("共1,234笔，金额12.5元", Language.ZH) == "共1 2 3 4笔，金额1 2点5元"
    assert normalize_for_speech("1,234 and 12.5", Language.EN) == "1 2 3 4 and 1 2 point 5"


def test_text_without_digits_unchanged() -> None:
    assert normalize_for_speech("Hello, world.", Language.EN) == "Hello, world."


def test_yes_no_answers_end_sentences() -> None:
    assert split_sentences("If not, please say no. Otherwise say yes.", Language.EN) == [
        "If not, please say no.",
        "Otherwise say yes.",
    ]
