"""Language-specific pieces that fill the domain's response templates.

Pure functions (no Rasa imports) so they can be unit-tested. Numbers that identify something
(phone, card) are spelled digit by digit with spaces so the TTS reads them one by one.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from actions.titles import city_in, name_in_english


# ------------------------------------------------------------------ answer parsing
# Ratings, yes/no, items, "no problem" and digits are parsed by the IVR's ``ivr.text`` (one
# normaliser, one set of parsers for both sides). Callback times are placed by the IVR
# (POST /internal/calls/{sid}/callback, ivr.text.callback_time).


def entity_value(message: dict[str, Any], name: str) -> Any:
    for ent in (message or {}).get("entities") or []:
        if isinstance(ent, dict) and ent.get("entity") == name:
            return ent.get("value")
    return None


# ------------------------------------------------------------------ spoken forms


def spell(digits: str) -> str:
    return " ".join(ch for ch in str(digits) if ch.isdigit())


def masked_name(name: str | None, lang: str, title: str | None = None) -> str:
    """张伟明 -> 张某明, 李娜 -> 李某; "Emily Chen" -> "E. Chen"; "Wang Lei" with title
    "Mr. Wang" -> "Wang L." (the surname is the part the title uses, else the last word)."""
    name = (name or "").strip()
    if not name:
        return ""
    if re.search(r"[\u4e00-\u9fff]", name):
        if len(name) <= 2:
            return name[0] + "某"
        return name[0] + "某" * (len(name) - 2) + name[-1]
    parts = name.split()
    if len(parts) == 1:
        return parts[0][0].upper() + "."
    title_words = {w.strip(".").lower() for w in (title or "").split()}
    surname = next((i for i, p in enumerate(parts) if p.lower() in title_words), len(parts) - 1)
    return " ".join(p if i == surname else p[0].upper() + "." for i, p in enumerate(parts))


def phone_parts(masked: str | None) -> tuple[str, str] | None:
    m = re.fullmatch(r"\s*(\+?\d*)\D+(\d{2,4})\s*", masked or "")
    if not m:
        return None
    return spell(m.group(1)[-3:]) if m.group(1) else "", spell(m.group(2))


def readback(record: dict[str, Any], lang: str) -> tuple[str, list[str]]:
    """The masked read-back of the fields on file, and which fields were read."""
    parts: list[str] = []
    fields: list[str] = []
    name = masked_name(record.get("name"), lang, record.get("title"))
    if name:
        parts.append(f"姓名 {name}" if lang == "zh"
                     else f"name, {name_in_english(name, record.get('name'))}")
        fields.append("name")
    phone = phone_parts(record.get("phone_masked"))
    if phone:
        head, tail = phone
        if lang == "zh":
            parts.append(f"手机号 {head} 开头、尾号 {tail}" if head else f"手机号尾号 {tail}")
        else:
            parts.append(f"phone number starting {head}, ending in {tail}" if head
                         else f"phone number ending in {tail}")
        fields.append("phone")
    card = re.sub(r"\D", "", str(record.get("card_last4") or ""))[-4:]
    if card:
        parts.append(f"绑定的银行卡尾号 {spell(card)}" if lang == "zh"
                     else f"bank card ending in {spell(card)}")
        fields.append("card")
    city = str(record.get("city") or "").strip()
    if city:
        city = city_in(city, lang)
        parts.append(f"地址所在城市 {city}" if lang == "zh" else f"address in {city}")
        fields.append("city")
    sep = ";" if lang == "zh" else "; "
    return sep.join(parts), fields


ITEM_NAMES = {
    "zh": {"name": "姓名", "phone": "手机号", "card": "银行卡", "city": "地址"},
    "en": {"name": "name", "phone": "phone number", "card": "bank card", "city": "address"},
}

_DOCS = {
    "id_card_front": ("身份证正面照片", "a photo of the front of your ID card"),
    "id_card_back": ("身份证反面照片", "a photo of the back of your ID card"),
    "id_card": ("身份证照片", "a photo of your ID card"),
    "selfie": ("本人手持身份证照片", "a selfie holding your ID card"),
    "face_photo": ("人脸识别照片", "a face verification photo"),
    "bank_card_photo": ("银行卡照片", "a photo of your bank card"),
    "bank_card": ("银行卡照片", "a photo of your bank card"),
    "proof_of_address": ("住址证明", "a proof of address"),
    "address_proof": ("住址证明", "a proof of address"),
    "income_proof": ("收入证明", "a proof of income"),
    "signature": ("电子签名", "your e-signature"),
}


def documents(codes: list[str] | None, lang: str) -> str:
    names: list[str] = []
    for code in codes or []:
        zh, en = _DOCS.get(str(code), (None, None))
        if zh is None:
            readable = str(code).replace("_", " ")
            zh, en = readable, readable
        names.append(zh if lang == "zh" else en)
    if not names:
        return ""
    if lang == "zh":
        return "、".join(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


LOCAL_TZ = "Asia/Shanghai"


def when(at: str | None, lang: str) -> str:
    """A transaction date as the customer would say it (local calendar day)."""
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return "最近" if lang == "zh" else "recently"
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(ZoneInfo(LOCAL_TZ))
        except ZoneInfoNotFoundError:
            pass
    if lang == "zh":
        return f"{moment.month} 月 {moment.day} 日"
    return moment.strftime("%B ") + str(moment.day)


def money(amount: Any, currency: str | None, lang: str) -> str:
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    cur = (currency or "CNY").upper()
    if lang == "zh":
        unit = {"CNY": "元", "RMB": "元", "USD": "美元", "HKD": "港币", "EUR": "欧元"}.get(cur, cur)
        return f"{text} {unit}"
    unit = {"CNY": "yuan", "RMB": "yuan", "USD": "dollars", "HKD": "Hong Kong dollars",
            "EUR": "euros"}.get(cur, cur)
    return f"{text} {unit}"


_CHANNELS = {
    "qr_code": ("扫码", "a QR code"), "qr": ("扫码", "a QR code"),
    "app": ("App", "the app"), "online": ("网购", "online"),
    "pos": ("刷卡", "a card terminal"), "transfer": ("转账", "a transfer"),
    "nfc": ("碰一碰", "tap to pay"), "mini_program": ("小程序", "a mini program"),
}


def channel(value: str | None, lang: str) -> str:
    zh, en = _CHANNELS.get(str(value or "").lower(), (value or "", value or ""))
    return zh if lang == "zh" else en


CAUSES = ("network", "balance", "password", "card", "limit")
_CAUSE_WORDS = {
    "balance": ("balance", "insufficient", "funds", "余额", "不足"),
    "password": ("password", "pin", "密码"),
    "network": ("network", "timeout", "timed out", "connection", "网络", "超时", "信号"),
    "card": ("expired", "card", "过期", "银行卡", "卡"),
    "limit": ("limit", "限额", "超额"),
}
ERROR_NAMES = {
    "balance": ("余额不足", "insufficient balance"),
    "password": ("支付密码错误", "wrong payment password"),
    "network": ("网络超时", "network timeout"),
    "card": ("银行卡状态异常或已过期", "card expired or not usable"),
    "limit": ("超出支付限额", "payment limit exceeded"),
}


def cause_of(error: str | None) -> str | None:
    low = str(error or "").lower()
    for cause, words in _CAUSE_WORDS.items():
        if any(w in low for w in words):
            return cause
    return None


def error_text(error: str | None, lang: str) -> str:
    cause = cause_of(error)
    if cause:
        zh, en = ERROR_NAMES[cause]
        return zh if lang == "zh" else en
    return str(error or "")


def describe_issue(issue: dict[str, Any], lang: str) -> dict[str, str]:
    """Template values describing a recent failed payment or refund."""
    return {
        "issue_date": when(issue.get("at"), lang),
        "issue_amount": money(issue.get("amount"), issue.get("currency"), lang),
        "issue_payee": str(issue.get("payee") or ("商户" if lang == "zh" else "a merchant")),
        "issue_channel": channel(issue.get("channel"), lang),
        "issue_error": error_text(issue.get("error"), lang)
        or ("未知错误" if lang == "zh" else "unknown error"),
    }


# ------------------------------------------------------------------ campaign reward


def parse_reward(value: Any) -> dict[str, Any] | None:
    """Metadata `campaign_reward`: an object, JSON text, "points:50", "coupon:10" or free text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return {"kind": "other", "description": text}
        else:
            m = re.fullmatch(r"(points?|coupon|积分|优惠券)\s*[:=]?\s*(\d+(?:\.\d+)?)", text,
                             re.IGNORECASE)
            if m:
                kind = "points" if m.group(1).lower().startswith(("point", "积")) else "coupon"
                amount = float(m.group(2))
                return {"kind": kind, "amount": int(amount) if amount.is_integer() else amount}
            return {"kind": "other", "description": text}
    if isinstance(value, dict):
        out = {str(k): v for k, v in value.items()
               if isinstance(v, str | int | float | bool) or v is None}
        kind = str(out.get("kind") or out.get("type") or "other").lower()
        out["kind"] = "points" if kind.startswith(("point", "积")) else (
            "coupon" if kind.startswith(("coupon", "优惠")) else kind)
        return out
    return None


def reward_text(reward: dict[str, Any], lang: str) -> str:
    kind = reward.get("kind")
    amount = reward.get("amount") or reward.get("points") or reward.get("value")
    desc = reward.get("description") or reward.get("name")
    if kind == "points" and amount is not None:
        return f"{amount} 积分" if lang == "zh" else f"{amount} reward points"
    if kind == "coupon" and amount is not None:
        return f"一张 {amount} 元的优惠券" if lang == "zh" else f"a {amount} yuan coupon"
    if desc:
        return str(desc)
    return "一份参与奖励" if lang == "zh" else "a thank-you reward"
