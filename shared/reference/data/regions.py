"""Administrative regions of the demo jurisdiction (深圳市), authored for Minsheng.

Province, city and district codes are the GB/T 2260 codes. Street (街道) and community (社区)
codes are Minsheng's own, derived and then frozen here: a street is its district's code plus a
three-digit ordinal ("440306" + "001" → 新安街道 "440306001"), a community its street's code
plus a three-digit ordinal ("440306001001"). They look like the statistics bureau's codes but
are not claimed to be them. Never renumber: add new streets or communities at the end.

Bump `VERSION` whenever a region is added, renamed or moved.
"""

from __future__ import annotations

VERSION = "2026.11.1"

PROVINCE: tuple[str, str] = ("440000", "广东省")
CITY: tuple[str, str] = ("440300", "深圳市")

# district code → (district name, streets in ordinal order)
DISTRICTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "440303": ("罗湖区", ("桂园街道", "黄贝街道", "东门街道", "翠竹街道", "南湖街道", "莲塘街道")),
    "440304": (
        "福田区",
        ("南园街道", "园岭街道", "福田街道", "沙头街道", "香蜜湖街道", "梅林街道"),
    ),
    "440305": ("南山区", ("南头街道", "南山街道", "沙河街道", "蛇口街道", "粤海街道", "西丽街道")),
    "440306": ("宝安区", ("新安街道", "西乡街道", "航城街道", "福永街道", "沙井街道", "石岩街道")),
    "440307": ("龙岗区", ("布吉街道", "坂田街道", "平湖街道", "横岗街道", "龙城街道", "龙岗街道")),
    "440308": ("盐田区", ("梅沙街道", "盐田街道", "沙头角街道", "海山街道")),
    "440309": ("龙华区", ("观湖街道", "民治街道", "龙华街道", "大浪街道", "观澜街道")),
    "440310": ("坪山区", ("坪山街道", "马峦街道", "坑梓街道", "龙田街道")),
    "440311": ("光明区", ("光明街道", "公明街道", "新湖街道", "凤凰街道", "马田街道")),
}

# street code → communities in ordinal order
COMMUNITIES: dict[str, tuple[str, ...]] = {
    # 宝安区
    "440306001": ("海旺社区", "灵芝园社区", "安乐社区"),
    "440306002": ("固戍社区", "流塘社区", "臣田社区"),
    "440306003": ("鹤洲社区", "钟屋社区", "三围社区"),
    "440306004": ("福永社区", "白石厦社区", "凤凰社区"),
    "440306005": ("沙井社区", "沙头社区", "后亭社区"),
    "440306006": ("石龙社区", "浪心社区", "水田社区"),
    # 福田区
    "440304001": ("南园社区", "滨江社区", "赤尾社区"),
    "440304002": ("红荔社区", "百花社区", "园东社区"),
    "440304003": ("岗厦社区", "皇岗社区", "福山社区"),
    "440304004": ("上沙社区", "下沙社区", "沙嘴社区"),
    "440304005": ("香蜜社区", "竹林社区", "农科社区"),
    "440304006": ("梅都社区", "孖岭社区", "梅林一村社区"),
    # 南山区
    "440305001": ("南头城社区", "同乐社区"),
    "440305004": ("湾厦社区", "渔二社区"),
    "440305005": ("科技园社区", "海珠社区"),
}
