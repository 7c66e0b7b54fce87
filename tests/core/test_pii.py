"""PII masking: values, free text in any digit script, and the logging filter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from ivr.core.pii import (
    PiiFilter,
    install_pii_filter,
    mask_card,
    mask_id,
    mask_phone,
    mask_text,
)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("138.1234.5678", "138****5678"),
        ("138/1234/5678", "138****5678"),
        ("138,1234,5678", "138****5678"),
        ("138_1234_5678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86138****5678"),
        ("008613812345678", "+86138****5678"),
        ("+14155551234", "+1415***1234"),
        ("+1 (415) 555-1234", "+1415***1234"),
        ("+447911123456", "+44791***3456"),
        ("+85291234567", "+852****4567"),  # 3-digit country code, 8 digits: last 4 only
        ("5551234", "***1234"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_phone(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    "value",
    ["138****5678", "+86138****5678", "+1415***1234", "***1234", "client:alice", "anonymous"],
)
def test_mask_phone_is_idempotent_and_leaves_identities(value: str) -> None:
    assert mask_phone(value) == value
    assert mask_phone(mask_phone(value)) == value


def test_mask_phone_falls_back_to_text_masking_for_uris() -> None:
    assert mask_phone("sip:13812345678@pbx.local") == "sip:*******5678@pbx.local"


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("6222021234567890123", "****0123"),
        ("6222 0212 3456 7890 123", "****0123"),
        ("4111-1111-1111-1111", "****1111"),
        ("****0123", "****0123"),
        ("0123", "****0123"),
        ("12", "****"),
    ],
)
def test_mask_card(number: str, masked: str) -> None:
    assert mask_card(number) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110105194912310021", "****0021"),
        ("11010519491231002X", "****002X"),
        ("110105 19491231 002x", "****002x"),
        ("E12345678", "****5678"),
        ("****002X", "****002X"),
        ("X", "****"),
    ],
)
def test_mask_id(value: str, masked: str) -> None:
    assert mask_id(value) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # Arabic digits, plain, spaced, dashed, embedded
        ("13812345678", "*******5678"),
        ("我的手机号是13812345678谢谢", "我的手机号是*******5678谢谢"),
        ("my number is 138 1234 5678.", "my number is *** **** 5678."),
        ("call 138-1234-5678 now", "call ***-****-5678 now"),
        ("+86 138 1234 5678", "+** *** **** 5678"),
        ("(415) 555-1234", "(***) ***-1234"),
        ("card 6222 0212 3456 7890 123", "card **** **** **** ***0 123"),
        ("tel13812345678", "tel*******5678"),
        ("1234567", "***4567"),
        # full-width digits and ideographic spaces
        ("１３８１２３４５６７８", "*******５６７８"),
        ("１３８　１２３４　５６７８", "***　****　５６７８"),
        # Chinese digit characters, with 幺/两/〇/零 and ASR-style spaces
        ("幺三八一二三四五六七八", "*******五六七八"),
        ("幺 三 八 一 二 三 四 五 六 七 八", "* * * * * * * 五 六 七 八"),
        ("一三八两二〇零四五六七", "*******四五六七"),
        ("号码是 一 三 八 1234 五六七八 对", "号码是 * * * **** 五六七八 对"),
        # English digit words, case-insensitive, with oh and double/triple
        (
            "one three eight one two three four five six seven eight",
            "* * * * * * * five six seven eight",
        ),
        ("Oh One Two Three Four Five Six", "* * * Three Four Five Six"),
        ("nine one double five triple seven two", "* * ** triple seven two"),
        ("nine one double five five triple seven", "* * ** five triple seven"),
        ("one three eight 1 2 3 4 double five seven 8", "* * * * * * * double five seven 8"),
        ("four one five-five five five-one two three four", "* * *-* * *-one two three four"),
        # resident ID with check character
        ("身份证 11010519491231002X", "身份证 **************002X"),
        # two numbers in one sentence are masked separately
        ("13812345678 and 6222021234567890123", "*******5678 and ***************0123"),
        # every separator style (issue 9)
        ("138.1234.5678", "***.****.5678"),
        ("138/1234/5678", "***/****/5678"),
        ("138,1234,5678", "***,****,5678"),
        ("138_1234_5678", "***_****_5678"),
        ("card 6222.0212.3456.7890", "card ****.****.****.7890"),
        ("card 6222/0212/3456/7890", "card ****/****/****/7890"),
        ("card 6222,0212,3456,7890", "card ****,****,****,7890"),
        ("card 6222_0212_3456_7890", "card ****_****_****_7890"),
        ("一三八，一二三四，五六七八", "***，****，五六七八"),
        ("one, three, eight, one, two, three, four", "*, *, *, one, two, three, four"),
        ("+86.138.1234.5678", "+**.***.****.5678"),
    ],
)
def test_mask_text_masks_long_digit_runs(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "",
        "评分 5 分",
        "I'd give it a four",
        "尾号 1234",
        "ID ends in one two three four",
        "金额 200 元,退款 1,234,567 元",  # thousands separators break the run
        "123456",  # six digits is not a run
        "一二三四五六",
        "one two three four five six",
        "Someone phoned at one, then at two.",
        "I have one question",
        "一下子一个一样",
        "两千五百元",  # amounts in words are not digit-by-digit
        "十三亿",
        "latency 450 ms after 12 turns",
        "v3.10.12 at 192.168.1.10",
        "callback 2024-01-15 10:00",
        "callback 2024/01/15 10:00 or 2024.01.16 or 15/01/2024",
        "from 10.20.30.40 and 192.168.100.200",
        "amount 12,345,678.90 and 1234567.5 yuan",
        "2024-01-15T10:00:00+00:00",
        "call CA1f2e3d4c5b6a79801234567890abcdef started",
        "stream MZ0123456789abcdef0123456789abcdef",
        "request 123e4567-e89b-12d3-a456-426614174000",
        "already 138****5678 and ****0123",
        "phone photon ozone tone",
    ],
)
def test_mask_text_leaves_short_numbers_and_identifiers(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "幺 三 八 一 二 三 四 五 六 七 八",
        "one three eight one two three four five six seven eight",
        "身份证 11010519491231002X",
        "nine one double five triple seven two",
    ],
)
def test_mask_text_is_idempotent(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


def test_mask_text_never_leaves_more_than_four_digits_of_a_run() -> None:
    masked = mask_text("my card 6222021234567890123 ok")
    assert sum(ch.isdigit() for ch in masked) == 4


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger("pii_test_root")
    root.propagate = False
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield root, stream
    root.removeHandler(handler)
    root.filters.clear()


def test_filter_masks_message_and_args_of_child_loggers(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    root, stream = captured
    installed = install_pii_filter(root)
    assert install_pii_filter(root) is installed  # no duplicates
    child = logging.getLogger("pii_test_root.call")
    child.info("caller %s said %r", "+8613812345678", "幺三八一二三四五六七八")
    child.info("rating %d", 5)
    child.info("dict %(phone)s", {"phone": "13812345678"})
    out = stream.getvalue()
    assert "13812345678" not in out and "一二三四" not in out
    assert "caller +*********5678" in out and "*******五六七八" in out
    assert "rating 5" in out
    assert "dict *******5678" in out


def test_filter_masks_exception_text(captured: tuple[logging.Logger, io.StringIO]) -> None:
    root, stream = captured
    install_pii_filter(root)
    try:
        raise ValueError("bad card 6222021234567890123")
    except ValueError:
        logging.getLogger("pii_test_root.x").exception("failed for 13812345678")
    out = stream.getvalue()
    assert "6222021234567890123" not in out and "13812345678" not in out
    assert "***************0123" in out and "Traceback" in out


def test_filter_survives_bad_format_args() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d %s", ("13812345678",), None)
    assert PiiFilter().filter(record) is True
    assert record.args == ("*******5678",)
