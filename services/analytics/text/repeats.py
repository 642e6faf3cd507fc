"""Repeat petitions (重复信访): the same person and basically the same matter (同人 + 同事).

Owns the :class:`RepeatIndex`: every case's fingerprint (MinHash signatures of its content
words and of its title words, its places, category, region and time) with two ways in:

* **same person first**: an inverted index from each pseudonymous person key (any linked
  identifier, co-petitioner, representative, principal of a proxy) to that person's cases;
  each is compared exactly (estimated Jaccard over the 64 MinHash values);
* **then same matter**: MinHash LSH (16 bands of 4 values, candidates from J ≈ 0.4 up) over
  both signatures finds cases of other people on the same matter, across every channel and
  any span. They are not repeats, but collective screening counts them.

A match is "basically the same matter" when (thresholds chosen on the same-user pairs of the
Teddy 2020 files, see ``tests/unit/test_analytics_text_repeats.py``):

* content-word Jaccard ≥ 0.30, or title-word Jaccard ≥ 0.50; or
* they share a place name (丽发新城, 茶场村 …) and content ≥ 0.15 or title ≥ 0.30;
* and, unless content ≥ 0.60: when both carry a category, the top-level categories agree;
  when both name places, at least one is shared (油烟扰民 at two estates is two matters).

Below that, same-person pairs were mostly different matters of the same active user (the
same road, another complaint). A petition with no earlier repeat is a first petition
(初信初访). Links are suggestions for casework; nothing here merges cases.

The fingerprint is computed once per case (jieba and MinHash, ~3 ms); the read model can keep
it (:meth:`Fingerprint.to_bytes`) so a rebuild at start needs no segmentation. The band keys
live in one sorted NumPy array (plus a small dict for cases added since the last
compaction) instead of datasketch's ``MinHashLSH`` buckets, which hold a Python set per band
bucket and would need several GiB at a million cases.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from services.analytics.text.records import Petition
from services.analytics.text.terms import NUM_PERM, minhash, places, words

BANDS = 16
ROWS = NUM_PERM // BANDS  # 4: P(candidate) = 1 - (1 - J^4)^16: 0.12 at J=0.3, 0.64 at 0.5
BUCKET_CAP = 64  # most recent cases taken from one band bucket: bounds a generic title's cost
MIN_TITLE_WORDS = 3  # shorter titles (物业问题) say too little to search other people by

TEXT_SAME = 0.30
TITLE_SAME = 0.50
TEXT_WITH_PLACE = 0.15
TITLE_WITH_PLACE = 0.30
TEXT_OVERRIDES_CATEGORY = 0.60

_EMPTY = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the index keeps of one case; storable as bytes in the read model."""

    case_id: str
    person_keys: tuple[str, ...]
    text_sig: np.ndarray = field(repr=False)
    title_sig: np.ndarray = field(repr=False)
    title_words: int = 0
    places: tuple[str, ...] = ()
    category_code: str | None = None
    region_code: str | None = None
    received_at: float | None = None  # POSIX seconds

    def to_bytes(self) -> bytes:
        meta = json.dumps(
            [
                self.case_id,
                list(self.person_keys),
                self.title_words,
                list(self.places),
                self.category_code,
                self.region_code,
                self.received_at,
            ],
            ensure_ascii=False,
        ).encode("utf-8")
        return (
            struct.pack("<I", len(meta))
            + meta
            + self.text_sig.astype("<u4").tobytes()
            + self.title_sig.astype("<u4").tobytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        (size,) = struct.unpack_from("<I", data)
        case_id, persons, title_words, place_list, category, region, when = json.loads(
            data[4 : 4 + size].decode("utf-8")
        )
        sigs = np.frombuffer(data, dtype="<u4", offset=4 + size).astype(np.uint32)
        return cls(
            case_id=case_id,
            person_keys=tuple(persons),
            text_sig=sigs[:NUM_PERM].copy(),
            title_sig=sigs[NUM_PERM : 2 * NUM_PERM].copy(),
            title_words=title_words,
            places=tuple(place_list),
            category_code=category,
            region_code=region,
            received_at=when,
        )


def fingerprint(petition: Petition) -> Fingerprint:
    """The case's fingerprint: jieba content words of title + text, and of the title alone."""
    title_words = set(words(petition.title))
    text_words = set(words(petition.text))
    return Fingerprint(
        case_id=petition.case_id,
        person_keys=tuple(dict.fromkeys(k for k in petition.person_keys if k)),
        text_sig=minhash(text_words) if text_words else _EMPTY,
        title_sig=minhash(title_words) if title_words else _EMPTY,
        title_words=len(title_words),
        places=tuple(places(petition.text)[:8]),
        category_code=petition.category_code,
        region_code=petition.region_code,
        received_at=petition.received_at.timestamp() if petition.received_at else None,
    )


@dataclass(frozen=True, slots=True)
class Link:
    """A suggested link from the checked petition to an indexed case."""

    case_id: str
    similarity: float  # the larger of the content and the title Jaccard estimates, 0–1
    reasons: tuple[str, ...]  # same_person, similar_content, similar_title, same_place, …

    @property
    def same_person(self) -> bool:
        return "same_person" in self.reasons


@dataclass(frozen=True, slots=True)
class RepeatCheck:
    """The answer for one petition: repeats (same person + same matter), earlier ones first
    by similarity, and other people's petitions on the same matter."""

    case_id: str
    repeats: tuple[Link, ...]
    same_matter: tuple[Link, ...]
    earlier_repeats: int  # repeats received before this petition (or at an unknown time)

    @property
    def is_first(self) -> bool:
        """初信初访: no earlier petition of the same person on the same matter."""
        return self.earlier_repeats == 0

    @property
    def links(self) -> tuple[Link, ...]:
        return self.repeats + self.same_matter


def _band_keys(sig: np.ndarray) -> np.ndarray:
    """One uint64 per band, the band number mixed in so all bands share one sorted array."""
    rows = sig.reshape(-1, BANDS, ROWS).astype(np.uint64)
    h = np.zeros(rows.shape[:2], dtype=np.uint64)
    for k in range(ROWS):
        h = (h ^ rows[:, :, k]) * np.uint64(0x100000001B3)  # FNV-style mixing, wraps mod 2^64
        h ^= h >> np.uint64(29)
    h ^= np.arange(BANDS, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return h


class _Signatures:
    """A growable (n, NUM_PERM) uint32 matrix."""

    def __init__(self) -> None:
        self.data = np.empty((1024, NUM_PERM), dtype=np.uint32)
        self.n = 0

    def append(self, sig: np.ndarray) -> None:
        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        self.data[self.n] = sig
        self.n += 1

    def extend(self, sigs: np.ndarray) -> None:
        need = self.n + len(sigs)
        if need > len(self.data):
            grown = np.empty((max(need, 2 * len(self.data)), NUM_PERM), dtype=np.uint32)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : need] = sigs
        self.n = need

    def view(self) -> np.ndarray:
        return self.data[: self.n]


class _Bands:
    """LSH buckets: a sorted array of (band key, case index) and a dict of recent adds."""

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.idx = np.empty(0, dtype=np.int32)
        self.recent: dict[int, list[int]] = {}
        self.recent_size = 0

    def add(self, i: int, keys: np.ndarray) -> None:
        for key in keys.tolist():
            self.recent.setdefault(key, []).append(i)
        self.recent_size += len(keys)
        if self.recent_size > max(100_000, len(self.keys) // 20):
            self.compact()

    def compact(self) -> None:
        if not self.recent:
            return
        pairs = [(k, i) for k, ids in self.recent.items() for i in ids]
        keys = np.fromiter((k for k, _ in pairs), dtype=np.uint64, count=len(pairs))
        idx = np.fromiter((i for _, i in pairs), dtype=np.int32, count=len(pairs))
        self.recent = {}
        self.recent_size = 0
        self._merge(keys, idx)

    def _merge(self, keys: np.ndarray, idx: np.ndarray) -> None:
        all_keys = np.concatenate([self.keys, keys])
        all_idx = np.concatenate([self.idx, idx])
        # stable by key, then index ascending: the most recent cases end each bucket
        order = np.lexsort((all_idx, all_keys))
        self.keys = all_keys[order]
        self.idx = all_idx[order]

    def candidates(self, keys: np.ndarray) -> set[int]:
        found: set[int] = set()
        lo = np.searchsorted(self.keys, keys, side="left")
        hi = np.searchsorted(self.keys, keys, side="right")
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
            if b > a:
                found.update(self.idx[max(a, b - BUCKET_CAP) : b].tolist())
        for key in keys.tolist():
            ids = self.recent.get(key)
            if ids:
                found.update(ids[-BUCKET_CAP:])
        return found


def same_matter(
    text_j: float,
    title_j: float,
    *,
    shared_place: bool,
    other_places: bool = False,
    category_a: str | None = None,
    category_b: str | None = None,
) -> bool:
    """The documented rule for "basically the same matter" (see the module docstring).
    ``other_places``: both name places and none is shared (油烟 at two different estates)."""
    if text_j < TEXT_OVERRIDES_CATEGORY:
        if category_a and category_b and category_a[:3] != category_b[:3]:
            return False
        if other_places:
            return False
    if text_j >= TEXT_SAME or title_j >= TITLE_SAME:
        return True
    return shared_place and (text_j >= TEXT_WITH_PLACE or title_j >= TITLE_WITH_PLACE)


class RepeatIndex:
    """Every case's fingerprint, searchable by person and by matter. Not thread-safe: one
    writer (the projection), readers between writes."""

    def __init__(self) -> None:
        self._case_ids: list[str] = []
        self._position: dict[str, int] = {}
        self._persons: list[tuple[str, ...]] = []
        self._by_person: dict[str, list[int]] = {}
        self._text = _Signatures()
        self._title = _Signatures()
        self._places: list[tuple[str, ...]] = []
        self._category: list[str | None] = []
        self._region: list[str | None] = []
        self._when: list[float] = []
        self._title_words: list[int] = []
        self._bands = _Bands()
        self._intern: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._case_ids)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._position

    # --- building ----------------------------------------------------------------------

    @classmethod
    def build(cls, petitions: Iterable[Petition | Fingerprint]) -> RepeatIndex:
        """An index of every petition or stored fingerprint (the rebuild at start)."""
        index = cls()
        index.add_many(petitions)
        return index

    def _s(self, value: str | None) -> str | None:
        # category, region and place strings repeat across a million cases: keep one copy
        return None if value is None else self._intern.setdefault(value, value)

    def _append(self, fp: Fingerprint) -> int | None:
        if fp.case_id in self._position:
            return None  # a case is indexed once; a new version of its text is a new case
        i = len(self._case_ids)
        self._case_ids.append(fp.case_id)
        self._position[fp.case_id] = i
        persons = tuple(k for k in (self._s(p) for p in fp.person_keys) if k is not None)
        self._persons.append(persons)
        for key in persons:
            self._by_person.setdefault(key, []).append(i)
        self._text.append(fp.text_sig)
        self._title.append(fp.title_sig)
        self._places.append(tuple(p for p in (self._s(x) for x in fp.places) if p is not None))
        self._category.append(self._s(fp.category_code))
        self._region.append(self._s(fp.region_code))
        self._when.append(math.nan if fp.received_at is None else fp.received_at)
        self._title_words.append(fp.title_words)
        return i

    @staticmethod
    def _band_rows(fp: Fingerprint) -> np.ndarray:
        keys = [_band_keys(fp.text_sig)[0]]
        if fp.title_words >= MIN_TITLE_WORDS:
            # a second family of bands: the title's keys, kept apart from the text's
            keys.append(_band_keys(fp.title_sig)[0] ^ np.uint64(0x5851F42D4C957F2D))
        return np.concatenate(keys)

    def add(self, item: Petition | Fingerprint) -> Fingerprint:
        """Index one case (idempotent on its case id); returns its fingerprint."""
        fp = item if isinstance(item, Fingerprint) else fingerprint(item)
        i = self._append(fp)
        if i is not None:
            self._bands.add(i, self._band_rows(fp))
        return fp

    def add_many(self, items: Iterable[Petition | Fingerprint]) -> int:
        """Index many cases at once (one sort of the band keys); returns how many were new."""
        added = 0
        pending: list[tuple[int, np.ndarray]] = []
        for item in items:
            fp = item if isinstance(item, Fingerprint) else fingerprint(item)
            i = self._append(fp)
            if i is None:
                continue
            added += 1
            pending.append((i, self._band_rows(fp)))
            if len(pending) >= 200_000:
                self._flush(pending)
        self._flush(pending)
        return added

    def _flush(self, pending: list[tuple[int, np.ndarray]]) -> None:
        if not pending:
            return
        keys = np.concatenate([k for _, k in pending])
        idx = np.concatenate([np.full(len(k), i, dtype=np.int32) for i, k in pending])
        self._bands._merge(keys, idx)
        pending.clear()

    # --- checking ----------------------------------------------------------------------

    def check(self, item: Petition | Fingerprint, *, limit: int = 20) -> RepeatCheck:
        """Repeats of ``item`` (same person + same matter) and other people's petitions on
        the same matter, most similar first. ``item`` itself, if indexed, is left out."""
        fp = item if isinstance(item, Fingerprint) else fingerprint(item)
        own = self._position.get(fp.case_id)
        mine: set[int] = set()
        for key in fp.person_keys:
            mine.update(self._by_person.get(key, ()))
        others = self._bands.candidates(self._band_rows(fp)) - mine
        mine.discard(own if own is not None else -1)
        others.discard(own if own is not None else -1)

        repeats = self._score(fp, sorted(mine), same_person=True)
        related = self._score(fp, sorted(others), same_person=False)
        when = fp.received_at
        earlier = sum(
            1
            for link in repeats
            if when is None
            or math.isnan(t := self._when[self._position[link.case_id]])
            or t <= when
        )
        return RepeatCheck(
            case_id=fp.case_id,
            repeats=tuple(repeats[:limit]),
            same_matter=tuple(related[:limit]),
            earlier_repeats=earlier,
        )

    def is_first(self, item: Petition | Fingerprint) -> bool:
        return self.check(item).is_first

    def _score(self, fp: Fingerprint, ids: list[int], *, same_person: bool) -> list[Link]:
        if not ids:
            return []
        rows = np.asarray(ids, dtype=np.int64)
        text_j = (self._text.view()[rows] == fp.text_sig).mean(axis=1)
        title_j = (self._title.view()[rows] == fp.title_sig).mean(axis=1)
        if bool((fp.text_sig == _EMPTY).all()):
            text_j[:] = 0.0
        if bool((fp.title_sig == _EMPTY).all()):
            title_j[:] = 0.0
        # below both of the lowest thresholds nothing can match: leave those out at once
        keep = np.flatnonzero((text_j >= TEXT_WITH_PLACE) | (title_j >= TITLE_WITH_PLACE))
        mine = set(fp.places)
        links: list[Link] = []
        for k in keep.tolist():
            i, tj, hj = ids[k], float(text_j[k]), float(title_j[k])
            theirs = self._places[i]
            shared = bool(mine.intersection(theirs))
            category = self._category[i]
            if not same_matter(
                tj,
                hj,
                shared_place=shared,
                other_places=bool(mine and theirs and not shared),
                category_a=fp.category_code,
                category_b=category,
            ):
                continue
            reasons = ["same_person"] if same_person else []
            if tj >= TEXT_WITH_PLACE:
                reasons.append("similar_content")
            if hj >= TITLE_WITH_PLACE:
                reasons.append("similar_title")
            if shared:
                reasons.append("same_place")
            if category and category == fp.category_code:
                reasons.append("same_category")
            if self._region[i] and self._region[i] == fp.region_code:
                reasons.append("same_region")
            links.append(Link(self._case_ids[i], round(max(tj, hj), 3), tuple(reasons)))
        links.sort(key=lambda link: (-link.similarity, link.case_id))
        return links

    # --- persistence -------------------------------------------------------------------

    def fingerprints(self) -> Iterator[Fingerprint]:
        text, title = self._text.view(), self._title.view()
        for i, case_id in enumerate(self._case_ids):
            when = self._when[i]
            yield Fingerprint(
                case_id=case_id,
                person_keys=self._persons[i],
                text_sig=text[i],
                title_sig=title[i],
                title_words=self._title_words[i],
                places=self._places[i],
                category_code=self._category[i],
                region_code=self._region[i],
                received_at=None if math.isnan(when) else when,
            )

    def save(self, path: str | Path) -> None:
        """One file of length-prefixed fingerprints (the read model may keep them instead)."""
        with open(path, "wb") as out:
            for fp in self.fingerprints():
                blob = fp.to_bytes()
                out.write(struct.pack("<I", len(blob)))
                out.write(blob)

    @classmethod
    def load(cls, path: str | Path) -> RepeatIndex:
        def read() -> Iterator[Fingerprint]:
            with open(path, "rb") as handle:
                while header := handle.read(4):
                    (size,) = struct.unpack("<I", header)
                    yield Fingerprint.from_bytes(handle.read(size))

        return cls.build(read())


def links_for(
    petitions: Iterable[Petition], *, index: RepeatIndex | None = None
) -> Iterator[tuple[Petition, RepeatCheck]]:
    """Each petition in time order checked against the ones before it (then indexed): the
    repeat links and first-petition flags a batch of history would have had as it came in."""
    index = index if index is not None else RepeatIndex()
    epoch = datetime.min.replace(tzinfo=UTC)
    for petition in sorted(petitions, key=lambda p: (p.received_at or epoch, p.case_id)):
        fp = fingerprint(petition)
        yield petition, index.check(fp)
        index.add(fp)
