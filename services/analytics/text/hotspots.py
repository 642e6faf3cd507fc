"""Hotspots (热点): clusters of similar requests by topic × place × time, ranked by size,
growth and public attention.

Owns :func:`hotspots`. How it works, on the petitions received in ``[date_from, date_to)``:

1. **Names.** Place and entity names are found without a dictionary of them: every run of 2–8
   characters in the titles that at least ``MIN_PEOPLE`` different people wrote is a
   candidate (maximal runs only: a fragment that nearly always occurs inside a longer run is
   dropped), if it starts and ends on a jieba word boundary in some title and is a word
   jieba's dictionary does not know (see :func:`looks_like_name`). jieba does not know
   丽发新城, 伊景园 or 58车贷 and cuts them apart; the people who write about them agree on
   the characters.
2. **Clusters.** A candidate's cluster is every petition whose title holds the name, or whose
   text says it twice (a passing mention is not the matter).
   Generic phrases (噪音扰民, 物业管理) gather petitions about unrelated matters; names of a
   place or an affair gather petitions about one matter. So each candidate's *cohesion* is
   the mean pairwise Jaccard of its members' content words (the name itself left out) and
   candidates below ``MIN_COHESION`` are no hotspot. Clusters are chosen greedily by score;
   a petition belongs to the first chosen cluster that holds it.
3. **Rank.** ``score = ln(1 + people) + 0.5·ln(1 + likes) + 0.5·ln(growth)`` where people
   are distinct petitioners (anonymous ones counted one each), likes the public attention
   summed over members (0 where the source has none) and growth the ratio of the cluster's
   petitions in the last quarter of the window to a quarter of the whole (clipped to
   0.25–8, so a steady cluster scores 0 there). Cohesion only admits a cluster: a tight
   little group of copies should not outrank a matter dozens of people raised.
4. **Show.** Key terms are the cluster's most frequent content words (and the name);
   representative titles those of the most central members (highest mean similarity to the
   others); first/last dates and weekly counts give the time.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations

from services.analytics.text.records import Petition, between
from services.analytics.text.terms import PLACE_SUFFIXES, STOP_WORDS, normalize, places, words

MIN_PEOPLE = 3  # a name written by fewer people is no hotspot's name
MIN_LEN, MAX_LEN = 2, 8  # runs counted; a name has at least NAME_MIN characters
NAME_MIN = 3  # two-character runs are mostly fragments (后街, 东十) or districts (星沙)
MIN_COHESION = 0.03  # below: a phrase over unrelated matters (see _cohesion)
FRAGMENT = 0.95  # a run inside a longer one that holds ≥ 95 % of its writers is a fragment
COHESION_SAMPLE = 24  # members compared pairwise for the cohesion (the earliest ones)
CONTENT_CHARS = 400  # of each text segmented for key terms and cohesion
REPRESENTATIVES = 3

_REGION = re.compile(r"[A-Z]\d*[省市区县]")
_RUN = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")
# a name does not begin or end with these (function words and the letter's verbs)
_EDGE = set("的了在是和与及对把被给向从就都也还又很更最")
_FUNCTION_CHARS = set("的了在是和与及对把被给向从就都也还又很更最一不有无个等")
_BAD_START = set("在对把被给向从请问我你他她它这那有无没不将应该要")
_BAD_END = set("的了在是和与及对把被给向从请问我你他她它这那有没不将应该要吗呢吧啊")


@dataclass(frozen=True, slots=True)
class Hotspot:
    rank: int
    name: str  # the place or entity that holds the cluster together
    score: float
    size: int
    people: int
    likes: int
    growth: float
    cohesion: float
    key_terms: tuple[str, ...]
    titles: tuple[str, ...]  # representative titles, most central first
    case_ids: tuple[str, ...]
    first_at: datetime | None
    last_at: datetime | None
    weekly: tuple[tuple[str, int], ...] = field(default=())  # ISO week → petitions
    places: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "name": self.name,
            "score": round(self.score, 3),
            "size": self.size,
            "people": self.people,
            "likes": self.likes,
            "growth": round(self.growth, 2),
            "cohesion": round(self.cohesion, 3),
            "key_terms": list(self.key_terms),
            "titles": list(self.titles),
            "places": list(self.places),
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "weekly": [list(w) for w in self.weekly],
            "case_ids": list(self.case_ids),
        }


def _clean(text: str) -> str:
    return _REGION.sub(" ", normalize(text))


def _runs(title: str) -> set[str]:
    found: set[str] = set()
    for run in _RUN.findall(_clean(title)):
        n = len(run)
        for size in range(MIN_LEN, min(MAX_LEN, n) + 1):
            for i in range(n - size + 1):
                gram = run[i : i + size]
                if gram[0] in _BAD_START or gram[-1] in _BAD_END or gram.isdigit():
                    continue
                if gram in STOP_WORDS:
                    continue
                found.add(gram)
    return found


def _person(p: Petition) -> str:
    return p.person_keys[0] if p.person_keys else f"case:{p.case_id}"


def _boundaries(title: str) -> tuple[str, set[int]]:
    text = _clean(title)
    cuts = {0}
    at = 0
    for token in tokens_with_blanks(text):
        at += len(token)
        cuts.add(at)
    return text, cuts


def tokens_with_blanks(text: str) -> list[str]:
    import jieba

    return list(jieba.cut(text))


def looks_like_name(gram: str) -> bool:
    """A name jieba's dictionary does not know: cut without the HMM, an unknown string falls
    apart into single characters, so a name holds two single characters in a row (丽/发/新城,
    58/车/贷, 五矿/万/境, 魅力/之/城), or is an unknown stem before a place suffix (伊景 + 园).
    Ordinary words and phrases (相关部门, 质量问题, 国际城, 滨河苑) are no names."""
    import jieba

    parts = [t for t in jieba.cut(gram, HMM=False) if t.strip()]
    run = 0
    for part in parts:
        single = len(part) == 1 and not part.isascii() and part not in _FUNCTION_CHARS
        run = run + 1 if single else 0
        if run >= 2 and single:
            return True
    for suffix in PLACE_SUFFIXES:
        stem = gram[: -len(suffix)]
        if gram.endswith(suffix) and len(stem) >= 2 and stem not in jieba.dt.FREQ:
            return len([t for t in jieba.cut(stem, HMM=False) if len(t) == 1]) >= 1
    return False


def candidate_names(petitions: Sequence[Petition], *, min_people: int = MIN_PEOPLE) -> list[str]:
    """Maximal character runs of the titles that ``min_people`` different people wrote, that
    start and end on a word boundary in at least one title, and that look like names."""
    writers: dict[str, set[str]] = {}
    aligned: set[str] = set()
    for p in petitions:
        who = _person(p)
        text, cuts = _boundaries(p.title)
        for gram in _runs(p.title):
            writers.setdefault(gram, set()).add(who)
            if gram not in aligned:
                start = text.find(gram)
                while start >= 0:
                    if start in cuts and start + len(gram) in cuts:
                        aligned.add(gram)
                        break
                    start = text.find(gram, start + 1)
    frequent = {g: len(w) for g, w in writers.items() if len(w) >= min_people}
    # one character longer on either side is enough: longer runs contain those
    longer: dict[str, list[str]] = {}
    for g in frequent:
        if len(g) > MIN_LEN:
            longer.setdefault(g[1:], []).append(g)
            longer.setdefault(g[:-1], []).append(g)
    keep = []
    for gram, n in frequent.items():
        if any(frequent[g] >= FRAGMENT * n for g in longer.get(gram, ())):
            continue
        if len(gram) >= NAME_MIN and gram in aligned and looks_like_name(gram):
            keep.append(gram)
    return keep


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class _Doc:
    petition: Petition
    title: str
    body: str
    words: set[str]
    person: str


def _cohesion(docs: Sequence[_Doc], name: str) -> float:
    sample = docs[:COHESION_SAMPLE]
    if len(sample) < 2:
        return 0.0
    sets = [{w for w in d.words if w not in name and name not in w} for d in sample]
    pairs = list(combinations(range(len(sets)), 2))
    return sum(_jaccard(sets[i], sets[j]) for i, j in pairs) / len(pairs)


def _growth(docs: Sequence[_Doc], start: datetime, end: datetime) -> float:
    span = (end - start).total_seconds()
    if span <= 0:
        return 1.0
    recent_from = end - timedelta(seconds=span / 4)
    recent = sum(
        1 for d in docs if d.petition.received_at and d.petition.received_at >= recent_from
    )
    return min(8.0, max(0.25, (recent + 0.5) / (len(docs) / 4 + 0.5)))


def _score(docs: Sequence[_Doc], cohesion: float, growth: float) -> tuple[float, int, int]:
    people = len({d.person for d in docs})
    likes = sum(d.petition.likes or 0 for d in docs)
    return math.log1p(people) + 0.5 * math.log1p(likes) + 0.5 * math.log(growth), people, likes


def hotspots(
    records: Iterable[Petition],
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    top: int = 10,
    *,
    min_people: int = MIN_PEOPLE,
) -> list[Hotspot]:
    """The ``top`` hotspots among petitions received in ``[date_from, date_to)``."""
    chosen = [p for p in between(records, date_from, date_to)]
    if not chosen:
        return []
    times = [p.received_at for p in chosen if p.received_at]
    start = date_from or min(times)
    end = date_to or max(times)
    docs = []
    for p in chosen:
        body = _clean(f"{p.title} {p.content}")
        head = f"{p.title}\n{p.content[:CONTENT_CHARS]}"
        docs.append(_Doc(p, _clean(p.title), body, set(words(head)), _person(p)))
    docs.sort(key=lambda d: (d.petition.received_at or start, d.petition.case_id))

    # candidates and their members
    members: dict[str, list[int]] = {}
    for name in candidate_names(chosen, min_people=min_people):
        # in the title, or said twice in the text: a passing mention is not the matter
        hits = [i for i, d in enumerate(docs) if name in d.title or d.body.count(name) >= 2]
        if len({docs[i].person for i in hits}) >= min_people:
            members[name] = hits

    # greedy choice by score, lazily re-scored when a chosen cluster took members
    cohesion = {n: _cohesion([docs[i] for i in ids], n) for n, ids in members.items()}
    heap: list[tuple[float, str]] = []
    for name, ids in members.items():
        if cohesion[name] < MIN_COHESION:
            continue
        group = [docs[i] for i in ids]
        score, _, _ = _score(group, cohesion[name], _growth(group, start, end))
        heapq.heappush(heap, (-score, name))
    taken: set[int] = set()
    clusters: list[tuple[float, str, list[int], float]] = []
    while heap and len(clusters) < top:
        _, name = heapq.heappop(heap)
        ids = [i for i in members[name] if i not in taken]
        group = [docs[i] for i in ids]
        if len({d.person for d in group}) < min_people:
            continue
        score, _, _ = _score(group, cohesion[name], _growth(group, start, end))
        if heap and score < -heap[0][0] - 1e-9:
            heapq.heappush(heap, (-score, name))  # lost members: back in line
            continue
        clusters.append((score, name, ids, cohesion[name]))
        taken.update(ids)

    out = []
    for rank, (score, name, ids, coh) in enumerate(clusters, start=1):
        group = [docs[i] for i in ids]
        _, people, likes = _score(group, coh, 1.0)
        out.append(_describe(rank, name, score, group, people, likes, coh, start, end))
    return out


def _describe(
    rank: int,
    name: str,
    score: float,
    group: list[_Doc],
    people: int,
    likes: int,
    cohesion: float,
    start: datetime,
    end: datetime,
) -> Hotspot:
    counts: Counter[str] = Counter()
    for d in group:
        counts.update(d.words)
    others = [w for w, _ in counts.most_common(12) if w not in name and name not in w]
    key_terms = [name, *[w for w in others if len(w) > 1][:7]]
    sample = group[:60]
    centrality = []
    for i, d in enumerate(sample):
        sims = [_jaccard(d.words, o.words) for j, o in enumerate(sample) if j != i]
        centrality.append((sum(sims) / len(sims) if sims else 0.0, -i))
    order = sorted(range(len(sample)), key=lambda i: centrality[i], reverse=True)
    titles: list[str] = []
    for i in order:
        title = sample[i].petition.title
        if title not in titles:
            titles.append(title)
        if len(titles) == REPRESENTATIVES:
            break
    when = sorted(d.petition.received_at for d in group if d.petition.received_at)
    weeks: Counter[str] = Counter()
    for t in when:
        year, week, _ = t.isocalendar()
        weeks[f"{year}-W{week:02d}"] += 1
    place_counts: Counter[str] = Counter()
    for d in group[:60]:
        place_counts.update(set(places(d.petition.title)))
    return Hotspot(
        rank=rank,
        name=name,
        score=score,
        size=len(group),
        people=people,
        likes=likes,
        growth=_growth(group, start, end),
        cohesion=cohesion,
        key_terms=tuple(key_terms),
        titles=tuple(titles),
        case_ids=tuple(d.petition.case_id for d in group),
        first_at=when[0] if when else None,
        last_at=when[-1] if when else None,
        weekly=tuple(sorted(weeks.items())),
        places=tuple(p for p, _ in place_counts.most_common(3)),
    )
