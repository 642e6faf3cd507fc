"""Repeat petitions (同人 + 同事): invented cases for each rule, then the real Teddy files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.analytics.text.records import SHARED_DATA, Petition, read_csv
from services.analytics.text.repeats import (
    Fingerprint,
    RepeatIndex,
    fingerprint,
    links_for,
    same_matter,
)
from shared.clock import SHANGHAI

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=SHANGHAI)

STIRRING = Petition(
    case_id="c1",
    title="丽发新城小区旁建搅拌站噪音扰民",
    content="我们是丽发新城小区的业主，小区旁边新建了一个搅拌站，每天晚上施工到凌晨，噪音和粉尘"
    "严重影响居民休息，请有关部门依法查处这个违建搅拌站。",
    person_keys=("person:alice",),
    region_code="440306",
    category_code="C05.03.01",
    received_at=T0,
)
# the same person, the same matter, other words (paraphrased)
STIRRING_AGAIN = Petition(
    case_id="c2",
    title="再次投诉丽发新城附近搅拌站夜间施工扰民",
    content="丽发新城旁边的搅拌站还在晚上施工，噪音很大，粉尘满天，上次反映后没有任何改变，"
    "居民无法休息，恳请查处违建搅拌站。",
    person_keys=("person:alice", "phone:hash-1"),
    region_code="440306",
    category_code="C05.03.01",
    received_at=T0 + timedelta(days=20),
)
# the same person, another matter
SCHOOL = Petition(
    case_id="c3",
    title="孩子上学学位问题咨询",
    content="请问今年秋季小学一年级的学位怎么分配，户籍在本区但房产证还没有办下来，孩子能不能"
    "就近入学？需要准备哪些材料？",
    person_keys=("person:alice",),
    region_code="440306",
    category_code="C03.01",
    received_at=T0 + timedelta(days=25),
)
# another person, the same matter
NEIGHBOUR = Petition(
    case_id="c4",
    title="丽发新城小区旁搅拌站噪音扰民",
    content="丽发新城小区旁边新建的搅拌站每天晚上施工到凌晨，噪音和粉尘严重影响居民休息，"
    "请依法查处违建搅拌站。",
    person_keys=("person:bob",),
    region_code="440306",
    category_code="C05.03.01",
    received_at=T0 + timedelta(days=3),
)


def test_same_person_paraphrased_same_matter_is_linked() -> None:
    index = RepeatIndex.build([STIRRING, SCHOOL])
    result = index.check(STIRRING_AGAIN)
    assert [link.case_id for link in result.repeats] == ["c1"]
    link = result.repeats[0]
    assert link.same_person and "same_place" in link.reasons
    assert not result.is_first


def test_same_person_other_matter_is_not_linked() -> None:
    index = RepeatIndex.build([STIRRING, STIRRING_AGAIN])
    result = index.check(SCHOOL)
    assert result.repeats == ()
    assert result.is_first


def test_other_person_same_matter_is_no_repeat_but_is_the_same_matter() -> None:
    index = RepeatIndex.build([STIRRING])
    result = index.check(NEIGHBOUR)
    assert result.repeats == ()
    assert result.is_first
    assert [link.case_id for link in result.same_matter] == ["c1"]
    assert not result.same_matter[0].same_person


def test_any_linked_identifier_counts_as_the_same_person() -> None:
    # the representative's phone key links a letter signed by another identifier
    index = RepeatIndex.build([_with(STIRRING, person_keys=("phone:hash-1",))])
    assert index.check(STIRRING_AGAIN).repeats[0].case_id == "c1"


def _replace(p: Petition) -> dict[str, object]:
    return {f: getattr(p, f) for f in Petition.__dataclass_fields__}


def _with(p: Petition, **changes: object) -> Petition:
    return Petition(**{**_replace(p), **changes})  # type: ignore[arg-type]


def test_first_petition_flag_follows_time() -> None:
    checks = dict((p.case_id, c) for p, c in links_for([STIRRING_AGAIN, SCHOOL, STIRRING]))
    assert checks["c1"].is_first  # the earliest of the matter
    assert not checks["c2"].is_first
    assert checks["c3"].is_first


def test_an_indexed_case_is_not_its_own_repeat_and_adding_is_idempotent() -> None:
    index = RepeatIndex.build([STIRRING, STIRRING_AGAIN])
    index.add(STIRRING)
    assert len(index) == 2
    assert [link.case_id for link in index.check(STIRRING).repeats] == ["c2"]


def test_fingerprint_round_trip_and_rebuild(tmp_path: Path) -> None:
    fp = fingerprint(STIRRING)
    back = Fingerprint.from_bytes(fp.to_bytes())
    assert back.case_id == fp.case_id and back.places == fp.places
    assert (back.text_sig == fp.text_sig).all() and (back.title_sig == fp.title_sig).all()
    index = RepeatIndex.build([STIRRING, SCHOOL, NEIGHBOUR])
    index.save(tmp_path / "index.bin")
    loaded = RepeatIndex.load(tmp_path / "index.bin")
    assert len(loaded) == 3
    assert loaded.check(STIRRING_AGAIN) == index.check(STIRRING_AGAIN)


def test_same_matter_rule() -> None:
    assert same_matter(0.35, 0.0, shared_place=False)
    assert same_matter(0.0, 0.6, shared_place=False)
    assert not same_matter(0.2, 0.2, shared_place=False)
    assert same_matter(0.2, 0.0, shared_place=True)
    # two estates, one complaint type: two matters unless the texts are nearly the same
    assert not same_matter(0.4, 0.6, shared_place=False, other_places=True)
    assert same_matter(0.7, 0.6, shared_place=False, other_places=True)
    assert not same_matter(0.4, 0.0, shared_place=True, category_a="C05.01", category_b="C03.01")


# --- the real files ----------------------------------------------------------------------

TEDDY = SHARED_DATA / "teddy2020"
needs_data = pytest.mark.skipif(
    not (TEDDY / "hotspot_messages.csv").exists(),
    reason=f"real data absent: {TEDDY} (../shared/data beside the repository)",
)

# Pairs labelled by reading both messages (same user id in the file). Repeats: the same
# matter written again; not repeats: the same active user on another matter.
KNOWN_REPEATS = [
    ("hotspot_messages", "233158", "272361"),  # 丽发新城 搅拌厂, the same text twice
    ("hotspot_messages", "223247", "283879"),  # 伊景园滨河苑 捆绑销售车位
    ("hotspot_messages", "223913", "225764"),  # 金贸路/金茂路 拓宽 白改黑 (paraphrase)
    ("hotspot_messages", "188059", "215834"),  # 中海国际社区 夜间施工噪音
    ("hotspot_messages", "262052", "268250"),  # 月亮岛路 110kv 高压线杆
    ("hotspot_messages", "240551", "214709"),  # 茶场村五组 何时拆迁
    ("hotspot_messages", "211453", "272567"),  # 领东汇小区 住改商麻将馆
    ("hotspot_messages", "209742", "233743"),  # 郝家坪小学 改扩建
    ("messages_fullcolumns", "3874", "4042"),  # 嘉华路 露天垃圾池
    ("messages_fullcolumns", "51405", "56068"),  # 恒方大厦 传销
]
KNOWN_OTHER_MATTERS = [
    ("hotspot_messages", "188007", "198950"),  # 门牌问题 / 违建
    ("hotspot_messages", "215123", "229922"),  # 人防车位 / 圈占绿地
    ("hotspot_messages", "215021", "228222"),  # 隔音带 / 夜宵扰民
    ("hotspot_messages", "195751", "282665"),  # 无证办学 / 货车扰民
    ("messages_fullcolumns", "7150", "26858"),  # 天然气 / 社区不作为
]


def _linked(rows: list[Petition], a: str, b: str) -> bool:
    by_id = {p.case_id: p for p in rows}
    earlier, later = sorted((by_id[a], by_id[b]), key=lambda p: p.received_at or T0)
    index = RepeatIndex.build([earlier])
    return any(link.case_id == earlier.case_id for link in index.check(later).repeats)


@needs_data
@pytest.mark.data
def test_known_pairs_on_the_real_files() -> None:
    files = {
        name: read_csv(TEDDY / f"{name}.csv")
        for name in ("hotspot_messages", "messages_fullcolumns")
    }
    found = [_linked(files[f], a, b) for f, a, b in KNOWN_REPEATS]
    wrong = [_linked(files[f], a, b) for f, a, b in KNOWN_OTHER_MATTERS]
    recall = sum(found) / len(found)
    assert recall >= 0.9, list(zip(KNOWN_REPEATS, found, strict=True))
    assert not any(wrong), list(zip(KNOWN_OTHER_MATTERS, wrong, strict=True))


@needs_data
@pytest.mark.data
def test_links_on_the_hotspot_file_are_same_user_and_mostly_right() -> None:
    rows = read_csv(TEDDY / "hotspot_messages.csv")
    results = list(links_for(rows))
    linked = [(p, c) for p, c in results if c.repeats]
    by_id = {p.case_id: p for p in rows}
    # every repeat link joins the same user id (同人)
    for p, c in linked:
        for link in c.repeats:
            assert set(by_id[link.case_id].person_keys) & set(p.person_keys)
    # a few hundred of the 4,326 messages repeat an earlier one; most are first petitions
    assert 300 <= len(linked) <= 700
    assert sum(c.is_first for _, c in results) >= 3500
    # precision on the labelled pairs: each linked known pair is a real repeat
    labelled = {(a, b) for f, a, b in KNOWN_OTHER_MATTERS if f == "hotspot_messages"}
    for p, c in linked:
        for link in c.repeats:
            assert (p.case_id, link.case_id) not in labelled
            assert (link.case_id, p.case_id) not in labelled
