"""Which item on file the caller says is wrong ("手机号不对" → phone), and "no problem"."""

from __future__ import annotations

from ivr.text.scan import CLAUSE, Match, prepare, scan

ITEMS = ("name", "phone", "card", "city")

_ITEM_WORDS: dict[str, str] = {
    "银行卡号": "card", "银行卡": "card", "卡号": "card", "绑定的卡": "card", "储蓄卡": "card",
    "信用卡": "card", "卡": "card", "bank card": "card", "card number": "card", "card": "card",
    "bank account": "card", "bank": "card",
    "手机号码": "phone", "手机号": "phone", "手机": "phone", "电话号码": "phone", "电话": "phone",
    "号码": "phone", "联系方式": "phone", "phone number": "phone", "phone": "phone",
    "mobile number": "phone", "mobile": "phone", "cell": "phone", "number": "phone",
    "telephone": "phone",
    "地址": "city", "住址": "city", "城市": "city", "所在城市": "city", "搬家": "city",
    "搬了": "city", "address": "city", "city": "city", "moved": "city",
    "姓名": "name", "名字": "name", "名": "name", "姓": "name", "name": "name",
    "surname": "name", "spelling": "name", "spelled": "name", "misspelled": "name",
}

_OK, _WRONG = "ok", "wrong"
_MARKERS: dict[str, str] = {
    "没有问题": _OK, "没问题": _OK, "没什么问题": _OK, "没毛病": _OK, "没错": _OK, "不错": _OK,
    "对的": _OK, "是对的": _OK, "都对": _OK, "正确": _OK, "是对": _OK,
    "no problem": _OK, "is fine": _OK, "are fine": _OK, "fine": _OK, "is correct": _OK,
    "are correct": _OK, "is right": _OK, "correct": _OK, "all good": _OK, "ok": _OK,
    "okay": _OK, "looks good": _OK, "nothing wrong": _OK,
    "不对": _WRONG, "错": _WRONG, "错了": _WRONG, "写错": _WRONG, "有误": _WRONG,
    "不正确": _WRONG, "不是": _WRONG, "有问题": _WRONG, "换了": _WRONG, "变了": _WRONG,
    "改了": _WRONG, "不用了": _WRONG, "停用": _WRONG, "注销": _WRONG, "过期": _WRONG,
    "更新": _WRONG, "改": _WRONG, "换": _WRONG, "不一样": _WRONG, "搬": _WRONG,
    "wrong": _WRONG, "incorrect": _WRONG, "not right": _WRONG, "not correct": _WRONG,
    "not mine": _WRONG, "changed": _WRONG, "change": _WRONG, "outdated": _WRONG,
    "old": _WRONG, "misspelled": _WRONG, "mistake": _WRONG, "error": _WRONG,
    "isn't right": _WRONG, "is off": _WRONG, "different": _WRONG, "moved": _WRONG,
    "new": _WRONG, "update": _WRONG, "not": _WRONG, "no longer": _WRONG,
}


def _gap(a: Match[str], b: Match[str]) -> int:
    return max(a.start - b.end, b.start - a.end, 0)


def _verdicts(clause: str) -> list[tuple[str, str | None]]:
    """Items named in one clause, each with the markers nearest to it ("手机号没问题地址不对":
    phone ok, city wrong); on a tie the marker belongs to the item before it."""
    items = scan(clause, _ITEM_WORDS)
    found: list[set[str]] = [set() for _ in items]
    for marker in scan(clause, _MARKERS):
        if not items:
            break
        best = min(range(len(items)),
                   key=lambda k: (_gap(items[k], marker), items[k].start > marker.start))
        found[best].add(marker.value)
    return [(m.value, _WRONG if _WRONG in f else (_OK if _OK in f else None))
            for m, f in zip(items, found, strict=True)]


def parse_item(text: str) -> str | None:
    """The item named as wrong: an item said to be wrong wins; items said to be fine are
    skipped; otherwise the first item named."""
    prepared = prepare(text or "")
    named: list[tuple[str, str | None]] = []
    start = 0
    for m in [*CLAUSE.finditer(prepared), None]:
        end = m.start() if m else len(prepared)
        named += _verdicts(prepared[start:end])
        start = m.end() if m else end
    for item, verdict in named:
        if verdict == _WRONG:
            return item
    for item, verdict in named:
        if verdict is None:
            return item
    return None


_NO_PROBLEM: dict[str, str] = {
    "没有问题": _OK, "没问题": _OK, "没什么问题": _OK, "没啥问题": _OK, "没毛病": _OK,
    "都没问题": _OK, "no problem": _OK, "no problems": _OK, "no issues": _OK,
    "no issue": _OK, "all good": _OK, "nothing wrong": _OK, "looks good": _OK,
    "不对": _WRONG, "错": _WRONG, "错了": _WRONG, "不是": _WRONG, "有问题": _WRONG,
    "没错": _OK, "不错": _OK, "wrong": _WRONG, "incorrect": _WRONG, "not right": _WRONG,
    "not correct": _WRONG, "one problem": _WRONG, "a problem": _WRONG,
}


def means_no_problem(text: str) -> bool:
    """"没有问题" / "no problem" answers "are these correct?" with yes (elsewhere it is a no);
    false when anything is said to be wrong ("没问题, 就是手机号不对")."""
    prepared = prepare(text or "")
    found = scan(prepared, _NO_PROBLEM)
    if any(m.value == _WRONG for m in found):
        return False
    return any(m.phrase not in ("没错", "不错") for m in found)
