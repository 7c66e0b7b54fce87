"""Yes / no from what a caller said, with negation ("not right", "不对") and "no problem"."""

from __future__ import annotations

from ivr.text.scan import negated, prepare, scan

_YES, _NO, _WEAK_YES = "yes", "no", "weak"

_TABLE: dict[str, str] = {
    # zh yes
    "是": _YES, "是的": _YES, "是啊": _YES, "是呀": _YES, "是我": _YES, "对": _YES,
    "对的": _YES, "对啊": _YES, "对呀": _YES, "没错": _YES, "不错": _YES, "确认": _YES,
    "确定": _YES, "正确": _YES, "要": _YES, "需要": _YES, "有": _YES, "有的": _YES,
    "当然": _YES, "可以": _YES, "行": _YES, "好啊": _YES, "同意": _YES, "愿意": _YES,
    "没问题": _YES, "没有问题": _YES, "没什么问题": _YES, "没毛病": _YES, "都对": _YES,
    "本人": _YES, "就是我": _YES, "感兴趣": _YES,
    "嗯": _WEAK_YES, "嗯嗯": _WEAK_YES, "恩": _WEAK_YES, "好": _WEAK_YES, "好的": _WEAK_YES,
    # zh no
    "不是": _NO, "不对": _NO, "不": _NO, "不用": _NO, "不用了": _NO, "不要": _NO,
    "不需要": _NO, "没有": _NO, "没": _NO, "没有了": _NO, "不行": _NO, "不可以": _NO,
    "错": _NO, "错了": _NO, "不正确": _NO, "算了": _NO, "不感兴趣": _NO, "打错了": _NO,
    "有问题": _NO, "有错": _NO, "不了": _NO, "否": _NO,
    # en yes
    "yes": _YES, "yeah": _YES, "yep": _YES, "yup": _YES, "yea": _YES, "sure": _YES,
    "correct": _YES, "right": _YES, "that's right": _YES, "of course": _YES,
    "absolutely": _YES, "definitely": _YES, "affirmative": _YES, "uh huh": _YES,
    "speaking": _YES, "that's me": _YES, "it's me": _YES, "indeed": _YES, "please do": _YES,
    "go ahead": _YES, "i do": _YES, "i am": _YES, "true": _YES, "no problem": _YES,
    "no problems": _YES, "why not": _YES, "all right": _YES, "alright": _YES, "exactly": _YES,
    "all good": _YES, "interested": _YES, "sounds good": _YES,
    "ok": _WEAK_YES, "okay": _WEAK_YES, "um": _WEAK_YES, "uh": _WEAK_YES, "mm": _WEAK_YES,
    # en no
    "no": _NO, "nope": _NO, "nah": _NO, "not": _NO, "wrong": _NO, "incorrect": _NO,
    "negative": _NO, "never": _NO, "don't": _NO, "no thanks": _NO, "no thank you": _NO,
    "not really": _NO, "not me": _NO, "i'm not": _NO, "i don't": _NO, "wrong number": _NO,
    "not interested": _NO, "no need": _NO, "no way": _NO, "not at all": _NO,
}


def parse_yes_no(text: str) -> bool | None:
    """True for yes, False for no, None when unclear or contradictory ("是 不是")."""
    prepared = prepare(text or "")
    strong: list[bool] = []
    weak = False
    for m in scan(prepared, _TABLE):
        if m.value == _WEAK_YES:
            weak = True
            continue
        value = m.value == _YES
        if value and negated(prepared, m.start):
            value = False
        strong.append(value)
    if strong:
        return strong[0] if all(v == strong[0] for v in strong) else None
    return True if weak else None
