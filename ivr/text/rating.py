"""Satisfaction rating 1..5 from what a caller said (or keyed), with negation and degree.

"五分", "4 stars", "I'd give it a four", "就五吧" are numbers; "非常满意" 5, "满意" 4, "一般" /
"还行" / "it was okay" 3, "不满意" / "不太满意" / "not really satisfied" / "not great" 2,
"非常不满意" / "terrible" 1. "一般" is never the digit 1.
"""

from __future__ import annotations

import re
from typing import Any

from ivr.text.normalize import EN_DIGITS, ZH_DIGITS
from ivr.text.scan import negated, prepare, scan

_SENTIMENT: dict[str, int] = {
    # 1
    "非常不满意": 1, "很不满意": 1, "特别不满意": 1, "极其不满意": 1, "十分不满意": 1,
    "太不满意": 1, "超级不满意": 1, "完全不满意": 1, "一点都不满意": 1, "一点也不满意": 1,
    "太差": 1, "很差": 1, "非常差": 1, "特别差": 1, "极差": 1, "差劲": 1, "糟糕": 1, "糟透": 1,
    "垃圾": 1, "太烂": 1, "很烂": 1, "最差": 1, "差评": 1,
    "very unsatisfied": 1, "very dissatisfied": 1, "extremely dissatisfied": 1,
    "extremely unsatisfied": 1, "completely dissatisfied": 1, "totally dissatisfied": 1,
    "not satisfied at all": 1, "not at all satisfied": 1, "not happy at all": 1,
    "terrible": 1, "awful": 1, "horrible": 1, "very bad": 1, "really bad": 1, "very poor": 1,
    "the worst": 1, "worst": 1, "useless": 1, "hate it": 1, "disgusting": 1, "pathetic": 1,
    # 2
    "不满意": 2, "不太满意": 2, "不怎么满意": 2, "不是很满意": 2, "不大满意": 2, "不够满意": 2,
    "有点不满意": 2, "不是特别满意": 2, "不好": 2, "不太好": 2, "不怎么样": 2, "差": 2,
    "不行": 2, "失望": 2, "不理想": 2, "不咋地": 2, "不咋样": 2, "有待提高": 2, "需要改进": 2,
    "unsatisfied": 2, "dissatisfied": 2, "not satisfied": 2, "not really satisfied": 2,
    "not very satisfied": 2, "not too satisfied": 2, "not that satisfied": 2,
    "not so satisfied": 2, "not happy": 2, "not great": 2, "not good": 2, "not very good": 2,
    "not so good": 2, "not too good": 2, "not that good": 2, "poor": 2, "bad": 2,
    "pretty bad": 2, "quite bad": 2, "disappointed": 2, "disappointing": 2, "unhappy": 2,
    "could be better": 2, "below average": 2, "not impressed": 2, "not really happy": 2,
    "needs improvement": 2, "low": 2,
    # 3
    "一般": 3, "一般般": 3, "还行": 3, "还可以": 3, "马马虎虎": 3, "凑合": 3, "中等": 3,
    "过得去": 3, "说得过去": 3, "普通": 3, "还好": 3, "中规中矩": 3, "不好不坏": 3, "就那样": 3,
    "不算差": 3, "不差": 3, "及格": 3, "中间": 3, "一半一半": 3,
    "okay": 3, "ok": 3, "it was okay": 3, "it was ok": 3, "fine": 3, "alright": 3,
    "all right": 3, "so so": 3, "so-so": 3, "average": 3, "neutral": 3, "not bad": 3,
    "not too bad": 3, "not that bad": 3, "decent": 3, "mediocre": 3, "middle": 3, "meh": 3,
    "in between": 3, "could be worse": 3, "not great not terrible": 3, "so-so i guess": 3,
    "fair": 3, "nothing special": 3, "mixed": 3, "passable": 3,
    # 4
    "满意": 4, "挺满意": 4, "比较满意": 4, "还算满意": 4, "基本满意": 4, "蛮满意": 4,
    "还挺满意": 4, "挺好": 4, "蛮好": 4, "比较好": 4, "不错": 4, "还不错": 4, "挺不错": 4,
    "好评": 4, "满意吧": 4,
    "satisfied": 4, "good": 4, "pretty good": 4, "quite good": 4, "happy": 4,
    "pretty happy": 4, "quite satisfied": 4, "fairly satisfied": 4, "mostly satisfied": 4,
    "nice": 4, "pleased": 4, "not bad at all": 4, "content": 4, "fairly good": 4,
    "rather good": 4, "good enough": 4,
    # 5
    "非常满意": 5, "很满意": 5, "特别满意": 5, "十分满意": 5, "太满意": 5, "超级满意": 5,
    "超满意": 5, "相当满意": 5, "完全满意": 5, "满分": 5, "非常好": 5, "很好": 5, "特别好": 5,
    "太好了": 5, "非常不错": 5, "很棒": 5, "太棒": 5, "棒": 5, "完美": 5, "好极了": 5,
    "very satisfied": 5, "extremely satisfied": 5, "completely satisfied": 5,
    "totally satisfied": 5, "really satisfied": 5, "super satisfied": 5, "very happy": 5,
    "really happy": 5, "very good": 5, "really good": 5, "great": 5, "excellent": 5,
    "perfect": 5, "amazing": 5, "fantastic": 5, "wonderful": 5, "outstanding": 5,
    "brilliant": 5, "awesome": 5, "love it": 5, "the best": 5, "full marks": 5, "superb": 5,
    "top": 5, "very very good": 5, "couldn't be better": 5, "exceptional": 5,
}

_ZH_NUM = "零一二两三四五"
_NUM_WORDS = {w: int(d) for w, d in EN_DIGITS.items() if w not in ("oh", "o") and d in "012345"}
_ZH_VALUE = {ch: int(ZH_DIGITS[ch]) for ch in _ZH_NUM}

# A number with its unit: "五分", "4 星", "two stars", "four out of five", "5/5".
_UNIT = re.compile(
    r"(?<![0-9])([0-5]|[" + _ZH_NUM + r"])\s*(?:分(?!钟)|颗星|个星|星)"
    r"|\b([0-5]|zero|one|two|three|four|five)\s*(?:stars?|points?|out of (?:five|5)|/\s*5)\b"
)
# A lone Chinese numeral: "五", "就五吧", "给你们打四", "打个五分吧" is covered by _UNIT.
_ZH_LONE = re.compile(
    r"(?:^|(?<=[\s给打评选就是算]))([" + _ZH_NUM + r"])(?=$|[\s吧啊呀了呢嘛哈,.!?。，！？])"
)


def _clamp(value: int) -> int | None:
    if value == 0:
        return 1  # "零分": as low as it goes
    return value if 1 <= value <= 5 else None


def _number(text: str) -> int | None:
    units = list(_UNIT.finditer(text))
    if units:
        m = units[-1]
        raw = m.group(1) or m.group(2)
        if raw in _ZH_VALUE:
            return _clamp(_ZH_VALUE[raw])
        return _clamp(_NUM_WORDS[raw] if raw in _NUM_WORDS else int(raw))
    lone = [int(t) for t in re.findall(r"(?<![0-9.])[0-9]+(?![0-9.])", text)]
    lone += [_NUM_WORDS[w] for w in re.findall(r"[a-z]+", text) if w in _NUM_WORDS]
    lone += [_ZH_VALUE[m.group(1)] for m in _ZH_LONE.finditer(text)]
    if len(set(lone)) == 1:
        return _clamp(lone[0])
    return None


def _sentiment(text: str) -> int | None:
    matches = scan(text, _SENTIMENT)
    if not matches:
        return None
    last = matches[-1]
    value = last.value
    if negated(text, last.start):
        value = 2 if value >= 3 else 3
    return value


def parse_rating(text: str, entity: Any = None) -> int | None:
    """1..5 from a keypad/NLU entity, a number, or a satisfaction phrase; None if unclear."""
    if entity is not None:
        try:
            value = int(float(str(entity)))
        except ValueError:
            value = -1
        if 1 <= value <= 5:
            return value
    prepared = prepare(text or "")
    number = _number(prepared)
    return number if number is not None else _sentiment(prepared)
