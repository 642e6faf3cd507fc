"""Words, places and fingerprints of a petition's text: what repeats and hotspots compare.

Owns the normalisation (NFKC, so full-width digits and letters match half-width ones), jieba
segmentation with a stop list of function words and petition boilerplate (尊敬的领导, 反映,
投诉 … say nothing about the matter), the place heuristic (a run of words ending in a place
suffix: 小区, 花园, 新城, 苑, 路, 村 …) and the MinHash fingerprint of a word set computed
with ``datasketch``'s permutations.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import jieba
import numpy as np
from datasketch import MinHash

jieba.setLogLevel(logging.WARNING)

# Function words and the formulae of a letter to a leader: frequent in every petition, they
# would make unrelated petitions look alike.
STOP_WORDS = frozenset(
    """
    的 了 在 是 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那
    我们 你们 他们 她们 它们 我家 本人 大家 什么 怎么 为什么 如何 是否 能否 可否 有没有 还是
    或者 以及 及 与 或 并 而 但 但是 而且 因为 所以 如果 虽然 然后 已经 现在 目前 一直 还 又
    再 才 更 最 非常 十分 特别 比较 这个 那个 这些 那些 这样 那样 这里 那里 哪里 其中 其他
    之 于 对 对于 关于 为 为了 由 由于 从 自 向 把 被 让 给 将 等 等等 及其 以 以上 以下 之后
    之前 期间 时候 时 后 前 中 里 内 外 个 位 些 次 年 月 日 号 点 可以 可能 应该 应当 必须
    需要 希望 请 请问 恳请 敬请 望 麻烦 感谢 谢谢 您好 你好 尊敬 尊敬的 领导 各位 书记 市长
    县长 区长 同志 此致 敬礼 反映 反应 投诉 举报 咨询 建议 询问 留言 问题 情况 事情 事项 相关
    有关 部门 政府 市民 群众 百姓 老百姓 居民 业主 解决 处理 落实 给予 予以 进行 存在 出现
    发生 造成 导致 得到 没 无 未 不是 不能 不会 不要 一下 一些 一点 多 少 大 小 新 老 很多
    许多 所有 每 各 该 其 此 本 啊 吧 呢 吗 呀 哦 嗯 么 啦 哈 嘛 呗 地 得 们 里面 上面 下面
    A市 西地省
    """.split()
)

# Where a place name ends. Longer suffixes first so 新城 wins over 城.
PLACE_SUFFIXES = (
    "小区",
    "花园",
    "新城",
    "新村",
    "家园",
    "公寓",
    "大厦",
    "广场",
    "社区",
    "街道",
    "大道",
    "公园",
    "学校",
    "小学",
    "中学",
    "幼儿园",
    "医院",
    "市场",
    "山庄",
    "华府",
    "庭院",
    "苑",
    "城",
    "园",
    "府",
    "庭",
    "湾",
    "路",
    "街",
    "巷",
    "村",
    "镇",
    "乡",
    "桥",
    "湖",
    "河",
    "港",
)
# Words that end a walk left from a place suffix: what precedes a name, never part of it.
_PLACE_STOPS = STOP_WORDS | frozenset(
    "附近 旁边 周边 门口 对面 楼下 位于 地处 座落 坐落 所在 住在 居住 购买 购房 开发 建设 修建"
    " 施工 小区 路段 片区 一带 区域 沿线 入口 出口 东 西 南 北".split()
)
# anonymised administrative names of the Teddy data (A市, A3区, K9县): a region, not a place
_REGION_TOKEN = re.compile(r"^[A-Z]\d*[省市区县]?$")
_REGION_IN_TEXT = re.compile(r"[A-Z]\d*[省市区县]")
_PLACE_MAX_CHARS = 8
_NOISE = re.compile(r"[\s\u3000]+")
_WORDY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), case-folded ASCII, whitespace runs as one blank."""
    return _NOISE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


@lru_cache(maxsize=65536)
def _segment(text: str) -> tuple[str, ...]:
    return tuple(jieba.lcut(text))


def tokens(text: str) -> list[str]:
    """Every jieba token of the normalised text, punctuation dropped (order kept)."""
    # the anonymised regions (A3区) glue to the next word in jieba ("区丽发"): cut them out
    cleaned = _REGION_IN_TEXT.sub(" ", normalize(text))
    return [t for t in _segment(cleaned) if _WORDY.search(t)]


def is_content_word(word: str) -> bool:
    if word in STOP_WORDS or len(word) < 2:
        return False
    if word.isdigit() and len(word) < 3:  # days, floors, small numbers
        return False
    return not _REGION_TOKEN.match(word)


def words(text: str) -> list[str]:
    """The content words of ``text`` in order: what a matter is made of."""
    return [w for w in tokens(text) if is_content_word(w)]


def _suffix_of(token: str) -> str | None:
    for suffix in PLACE_SUFFIXES:
        if token.endswith(suffix):
            return suffix
    return None


def places(text: str) -> list[str]:
    """Place names in ``text``: a run of words ending in a place suffix (丽发新城, 伊景园,
    金茂路), walked left from the suffix until a stop word, a region (A3区) or 8 characters.
    A suffix alone (路, 小区) or a run with nothing before the suffix is no name."""
    found: list[str] = []
    toks = tokens(text)
    for i, token in enumerate(toks):
        suffix = _suffix_of(token)
        if suffix is None:
            continue
        name = token
        j = i - 1
        while j >= 0 and len(name) < _PLACE_MAX_CHARS:
            prev = toks[j]
            if prev in _PLACE_STOPS or _REGION_TOKEN.match(prev) or _suffix_of(prev) == prev:
                break
            if len(prev) + len(name) > _PLACE_MAX_CHARS:
                break
            name = prev + name
            j -= 1
        if len(name) > len(suffix) and len(name) >= 3 and name not in found:
            found.append(name)
    return found


# --- fingerprints -------------------------------------------------------------------------

NUM_PERM = 64
SEED = 20200
SCHEME = "affine32"  # datasketch ≥ 2: uint32 values, collision-free permutations
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


def minhash(items: Iterable[str]) -> np.ndarray:
    """The MinHash signature (``NUM_PERM`` uint32) of a set of words, by ``datasketch``.

    An empty set gives all-ones maxima, which match nothing real."""
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_TEMPLATE.permutations, scheme=SCHEME)
    encoded = [w.encode("utf-8") for w in set(items)]
    if encoded:
        m.update_batch(encoded)
    return m.hashvalues.astype(np.uint32)


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)
