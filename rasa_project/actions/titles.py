"""How the bot addresses the customer, in the call's language ("王先生" / "Mr. Wang").

The record keeps one title, in the customer's own language. When a call runs in the other
language (the caller asked for it, or the call was placed in it) the title is rendered again:
surname and form of address, each translated. Pure functions (no Rasa imports).

- 王先生 → Mr. Wang, 李女士 → Ms. Li, 张小姐 → Miss Zhang, 欧阳太太 → Mrs. Ouyang: the
  surname's usual romanisation (most common surnames; an unknown one cannot be spelled in
  English, so the neutral "the account holder" is used); Smith先生 → Mr. Smith.
- Mr. Smith → Smith先生, Ms. Chen → 陈女士: a Chinese surname's romanisation is said with its
  most common character (heard the same), or taken from the customer's name when that is
  written in Chinese ("Mr. Wang", name 汪伟 → 汪先生); any other surname is kept as written.
- A title already in the call's language is kept as it is; the neutral fallbacks translate.
"""

from __future__ import annotations

import re

FALLBACK_TITLE = {"zh": "申请人本人", "en": "the account holder"}

_SURNAMES = (  # most common first: the reverse map keeps the first character per spelling
    "王Wang 李Li 张Zhang 刘Liu 陈Chen 杨Yang 黄Huang 赵Zhao 吴Wu 周Zhou 徐Xu 孙Sun 马Ma "
    "朱Zhu 胡Hu 郭Guo 何He 林Lin 高Gao 罗Luo 郑Zheng 梁Liang 谢Xie 宋Song 唐Tang 许Xu 韩Han "
    "冯Feng 邓Deng 曹Cao 彭Peng 曾Zeng 肖Xiao 田Tian 董Dong 潘Pan 袁Yuan 蔡Cai 蒋Jiang 余Yu "
    "于Yu 杜Du 叶Ye 程Cheng 魏Wei 苏Su 吕Lyu 丁Ding 任Ren 卢Lu 姚Yao 沈Shen 钟Zhong 姜Jiang "
    "崔Cui 谭Tan 陆Lu 范Fan 汪Wang 廖Liao 石Shi 金Jin 韦Wei 贾Jia 夏Xia 付Fu 傅Fu 方Fang "
    "邹Zou 熊Xiong 白Bai 孟Meng 秦Qin 邱Qiu 侯Hou 江Jiang 尹Yin 薛Xue 闫Yan 段Duan 雷Lei "
    "龙Long 黎Li 史Shi 陶Tao 贺He 毛Mao 郝Hao 顾Gu 龚Gong 邵Shao 万Wan 覃Qin 武Wu 钱Qian "
    "戴Dai 严Yan 莫Mo 孔Kong 向Xiang 常Chang 汤Tang 康Kang 易Yi 乔Qiao 赖Lai 文Wen 施Shi "
    "欧阳Ouyang 司马Sima 诸葛Zhuge 上官Shangguan 东方Dongfang 慕容Murong 令狐Linghu "
    "皇甫Huangfu 尉迟Yuchi 公孙Gongsun 司徒Situ 夏侯Xiahou 宇文Yuwen"
)
PINYIN: dict[str, str] = {}
HANZI: dict[str, str] = {}
for _entry in _SURNAMES.split():
    _han = "".join(ch for ch in _entry if not ch.isascii())
    _latin = _entry[len(_han):]
    PINYIN[_han] = _latin
    HANZI.setdefault(_latin.lower(), _han)

# form of address: Chinese suffix <-> English prefix
_ZH_TO_EN = {"先生": "Mr.", "女士": "Ms.", "小姐": "Miss", "太太": "Mrs.", "夫人": "Mrs.",
             "博士": "Dr.", "医生": "Dr."}
_EN_TO_ZH = {"mr": "先生", "ms": "女士", "miss": "小姐", "mrs": "太太", "dr": "博士"}
_ZH_TITLE = re.compile(r"^\s*(?P<surname>[\u4e00-\u9fff]{1,2}?|[A-Za-z][A-Za-z'-]*)(?P<form>"
                       + "|".join(_ZH_TO_EN) + r")\s*$")
_EN_TITLE = re.compile(r"^\s*(?P<form>mr|ms|mrs|miss|dr)\.?\s+(?P<surname>[^\s].*?)\s*$",
                       re.IGNORECASE)
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _chinese_surname(name: str | None) -> str | None:
    """The surname of a name written in Chinese (a compound one when it is known)."""
    name = (name or "").strip()
    if not _HAN.match(name):
        return None
    return name[:2] if len(name) > 2 and name[:2] in PINYIN else name[0]


def title_in(title: str | None, lang: str, name: str | None = None) -> str | None:
    """``title`` as said in ``lang`` ("zh" | "en"); None when no title was given."""
    title = (title or "").strip()
    if not title:
        return None
    for fallback in FALLBACK_TITLE.values():
        if title == fallback:
            return FALLBACK_TITLE.get(lang, title)
    zh, en = _ZH_TITLE.match(title), _EN_TITLE.match(title)
    if lang == "en" and zh:
        surname = zh["surname"] if zh["surname"].isascii() else PINYIN.get(zh["surname"])
        return f"{_ZH_TO_EN[zh['form']]} {surname}" if surname else FALLBACK_TITLE["en"]
    if lang == "zh" and en:
        latin = en["surname"]
        own = _chinese_surname(name)
        if own and PINYIN.get(own, "").lower() == latin.lower():
            surname = own
        else:
            surname = HANZI.get(latin.lower(), latin)
        return surname + _EN_TO_ZH[en["form"].lower()]
    if lang == "en" and _HAN.search(title):  # a name or title the English voice cannot say
        return FALLBACK_TITLE["en"]
    return title


# ------------------------------------------------------------------ names and cities on file
# The read-back says what is on file; a Chinese name or city read by the English voice would be
# noise ("name, 张某"), and an English city name in a Mandarin call is said the Chinese way.
CITIES = {"北京": "Beijing", "上海": "Shanghai", "广州": "Guangzhou", "深圳": "Shenzhen",
          "杭州": "Hangzhou", "成都": "Chengdu", "武汉": "Wuhan", "南京": "Nanjing",
          "西安": "Xi'an", "重庆": "Chongqing", "苏州": "Suzhou", "天津": "Tianjin",
          "香港": "Hong Kong", "澳门": "Macau", "台北": "Taipei", "厦门": "Xiamen",
          "青岛": "Qingdao", "长沙": "Changsha", "郑州": "Zhengzhou", "沈阳": "Shenyang"}
_CITY_ZH = {en.lower(): zh for zh, en in CITIES.items()}


def name_in_english(masked: str, name: str | None) -> str:
    """A masked name as an English read-back says it: "family name Zhang" for a Chinese name
    (the given name is masked anyway), "on file" when the surname has no known spelling."""
    if not _HAN.search(masked):
        return masked
    surname = PINYIN.get(_chinese_surname(name) or "")
    return f"family name {surname}" if surname else "as registered"


def city_in(city: str, lang: str) -> str:
    """上海 in an English call: Shanghai; Shanghai in a Mandarin call: 上海. An unknown Chinese
    city in English: "the city on file" (the English voice cannot say it)."""
    if lang == "en" and _HAN.search(city):
        return CITIES.get(city.removesuffix("市"), CITIES.get(city, "the city on file"))
    if lang == "zh":
        return _CITY_ZH.get(city.strip().lower(), city)
    return city
