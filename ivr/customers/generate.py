"""``ivr customers generate``: a realistic, deterministic demo set the importer accepts.

The same ``seed`` and ``now`` give the same customers. Mixes are guaranteed, not left to
chance: every few customers one is English-speaking, has a failed payment or a refund in
the last 7 days, has opted out of marketing, or is still under review / rejected.
IDs start with ``demo-`` and e-mails use ``example.com``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

JsonDict = dict[str, Any]

_ZH_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林高罗"
_ZH_MALE = ("伟", "强", "磊", "洋", "勇", "军", "杰", "涛", "明", "超", "建华", "晓东", "浩然",
            "思远", "志强")
_ZH_FEMALE = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "秀英", "霞", "雨桐", "子涵", "婷婷",
              "晓燕", "慧敏")
_ZH_CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆",
              "苏州", "天津")
_EN_MALE = ("James", "David", "Michael", "Daniel", "Thomas", "Robert", "William")
_EN_FEMALE = ("Emma", "Olivia", "Sarah", "Emily", "Laura", "Grace", "Sophie")
_EN_LAST = ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Walker", "Wright",
            "Green", "Hall")
# English-speaking customers: mostly living in mainland China, some abroad.
_EN_PLACES = (("Shanghai", "Asia/Shanghai", "+86"), ("Beijing", "Asia/Shanghai", "+86"),
              ("Shenzhen", "Asia/Shanghai", "+86"), ("Hong Kong", "Asia/Hong_Kong", "+852"),
              ("Singapore", "Asia/Singapore", "+65"), ("London", "Europe/London", "+44"))
_CN_MOBILE_PREFIXES = ("130", "131", "135", "136", "137", "138", "139", "150", "151", "155",
                       "158", "159", "166", "177", "180", "186", "187", "188", "189", "199")
_DOCUMENTS = ("id_card_front", "id_card_back", "proof_of_address", "bank_card_photo", "selfie")
_PAYEES = {"zh": ("美团外卖", "滴滴出行", "星巴克", "京东商城", "中国移动", "盒马鲜生", "肯德基"),
           "en": ("Meituan", "DiDi", "Starbucks", "JD.com", "China Mobile", "Hema", "KFC")}
_ERRORS = {"zh": ("余额不足", "网络异常", "支付密码错误", "银行卡已过期"),
           "en": ("insufficient balance", "network error", "wrong payment password",
                  "bank card expired")}
_CHANNELS = ("app_qr", "app_transfer", "mini_program", "pos")
# Application status over a cycle of ten customers: mostly passed (the campaign's target).
_STATUS_CYCLE = ("pre_review_passed", "pre_review_passed", "submitted", "pre_review_passed",
                 "pre_review_passed", "rejected", "pre_review_passed", "pre_review_passed",
                 "submitted", "pre_review_passed")


def _phone(rng: random.Random, code: str) -> str:
    if code == "+86":
        return code + rng.choice(_CN_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    if code == "+44":  # Ofcom's range reserved for drama: never a real subscriber
        return f"+447700900{rng.randrange(1000):03d}"
    return code + rng.choice("689") + f"{rng.randrange(10**7):07d}"


def _person(rng: random.Random, index: int) -> JsonDict:
    male = rng.random() < 0.5
    if index % 3 == 2:
        first = rng.choice(_EN_MALE if male else _EN_FEMALE)
        last = rng.choice(_EN_LAST)
        city, zone, code = rng.choice(_EN_PLACES)
        return {"name": f"{first} {last}", "title": f"{'Mr.' if male else 'Ms.'} {last}",
                "language": "en", "city": city, "timezone": zone, "_code": code,
                "_mail": f"{first}.{last}".lower()}
    surname = rng.choice(_ZH_SURNAMES)
    given = rng.choice(_ZH_MALE if male else _ZH_FEMALE)
    return {"name": surname + given, "title": surname + ("先生" if male else "女士"),
            "language": "zh", "city": rng.choice(_ZH_CITIES), "timezone": "Asia/Shanghai",
            "_code": "+86", "_mail": f"user{index + 1:04d}"}


def _transaction(rng: random.Random, lang: str, at: datetime, kind: str,
                 failed: bool) -> JsonDict:
    payee = rng.choice(_PAYEES[lang]) if kind != "topup" else ""
    return {"at": at.isoformat(), "kind": kind,
            "amount": round(rng.uniform(5, 2000 if kind != "topup" else 5000), 2),
            "currency": "CNY", "status": "failed" if failed else "ok",
            "channel": rng.choice(_CHANNELS) if kind != "refund" else "original_route",
            "payee": payee, "error": rng.choice(_ERRORS[lang]) if failed else None}


def _transactions(rng: random.Random, index: int, lang: str, now: datetime) -> list[JsonDict]:
    out = []
    for _ in range(rng.randrange(0, 5)):  # background activity over the last 30 days
        at = now - timedelta(minutes=rng.randrange(60, 30 * 24 * 60))
        kind = rng.choices(("payment", "topup", "refund"), (6, 3, 1))[0]
        out.append(_transaction(rng, lang, at, kind, kind == "payment" and rng.random() < 0.1))
    if index % 4 == 1:
        at = now - timedelta(minutes=rng.randrange(30, 6 * 24 * 60))
        out.append(_transaction(rng, lang, at, "payment", True))
    if index % 6 == 4:
        at = now - timedelta(minutes=rng.randrange(30, 6 * 24 * 60))
        out.append(_transaction(rng, lang, at, "refund", False))
    return sorted(out, key=lambda t: str(t["at"]), reverse=True)


def _application(rng: random.Random, index: int, now: datetime) -> JsonDict:
    status = _STATUS_CYCLE[index % len(_STATUS_CYCLE)]
    out: JsonDict = {"application_status": status, "activation_status": "inactive",
                     "missing_documents": [], "expected_review_days": None,
                     "pre_review_passed_at": None}
    if status == "pre_review_passed":
        out["pre_review_passed_at"] = (now - timedelta(hours=rng.randrange(2, 240))).isoformat()
        if rng.random() < 0.45:
            out["activation_status"] = "active"
        elif rng.random() < 0.6:
            out["missing_documents"] = sorted(rng.sample(_DOCUMENTS, rng.randrange(1, 3)))
        else:
            out["expected_review_days"] = rng.randrange(1, 4)
    elif status == "submitted":
        out["expected_review_days"] = rng.randrange(1, 8)
        if rng.random() < 0.4:
            out["missing_documents"] = sorted(rng.sample(_DOCUMENTS, 1))
    return out


def generate_customers(count: int, now: datetime, seed: int = 20240501) -> list[JsonDict]:
    """``count`` demo customers as importer-ready JSON objects, relative to ``now``."""
    if count < 0:
        raise ValueError("count must not be negative")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(seed)
    phones: set[str] = set()
    customers = []
    for index in range(count):
        person = _person(rng, index)
        code, mail = person.pop("_code"), person.pop("_mail")
        phone = _phone(rng, code)
        while phone in phones:
            phone = _phone(rng, code)
        phones.add(phone)
        channel = rng.choices(("sms", "email", "none"), (6, 3, 1))[0]
        check = "X" if rng.random() < 0.1 else str(rng.randrange(10))
        customers.append({
            "customer_id": f"demo-{index + 1:04d}",
            **person,
            "phone": phone,
            "email": f"{mail}@example.com" if channel == "email" or rng.random() < 0.5
            else None,
            "id_last4": f"{rng.randrange(1000):03d}{check}",
            "card_last4": f"{rng.randrange(10000):04d}",
            **_application(rng, index, now),
            "marketing_opt_out": index % 7 == 3 or rng.random() < 0.05,
            "preferred_channel": channel,
            "recent_transactions": _transactions(rng, index, str(person["language"]), now),
        })
    return customers
