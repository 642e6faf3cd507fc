"""Hotspots: names found without a dictionary, clusters, ranking, the CLI; on the real file the
clusters people found by hand are in the top 10."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta

import pytest

from minsheng.analytics_text_cli import register
from services.analytics.text.hotspots import candidate_names, hotspots, looks_like_name
from services.analytics.text.records import SHARED_DATA, Petition, read_csv
from shared.clock import SHANGHAI

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=SHANGHAI)


def _p(i: int, title: str, content: str, likes: int = 0, day: int = 0) -> Petition:
    return Petition(
        case_id=f"h{i}",
        title=title,
        content=content,
        person_keys=(f"u{i}",),
        received_at=T0 + timedelta(days=day),
        likes=likes,
    )


def _world() -> list[Petition]:
    rows = []
    for i in range(8):
        rows.append(
            _p(
                i,
                f"投诉翠湖雅筑小区旁搅拌站扰民{i}",
                "翠湖雅筑小区旁的搅拌站晚上施工，噪音粉尘严重，居民无法休息。",
                day=31 + i,
            )
        )
    for i in range(8, 12):
        rows.append(
            _p(i, "鑫盛车贷案件进展如何", "鑫盛车贷平台爆雷，受害人报案后一直没有进展。", 300, i)
        )
    for i in range(12, 30):  # unrelated matters sharing only ordinary words
        rows.append(_p(i, f"相关部门请解决问题{i}", f"第{i}号楼的事情请相关部门解决。", 0, i))
    return rows


def test_unknown_names_are_found_and_ordinary_words_are_not() -> None:
    assert looks_like_name("丽发新城") and looks_like_name("58车贷")
    assert looks_like_name("伊景园") and looks_like_name("五矿万境")
    assert not looks_like_name("相关部门") and not looks_like_name("质量问题")
    names = candidate_names(_world())
    assert "翠湖雅筑" in "".join(names)
    assert not any("相关部门" == n for n in names)


def test_clusters_ranked_with_representative_titles() -> None:
    found = hotspots(_world(), T0, T0 + timedelta(days=40), 5)
    assert len(found) == 2
    by_name = {h.name: h for h in found}
    stirring = next(h for n, h in by_name.items() if "翠湖雅筑" in n)
    loans = next(h for n, h in by_name.items() if "车贷" in n)
    assert stirring.size == 8 and stirring.people == 8
    assert loans.likes == 1200
    assert stirring.growth > loans.growth  # it came late in the window
    assert stirring.titles[0].startswith("投诉翠湖雅筑")
    assert [h.rank for h in found] == [1, 2]


def test_window_limits_the_petitions() -> None:
    early = hotspots(_world(), T0, T0 + timedelta(days=15), 5)
    assert all("翠湖雅筑" not in h.name for h in early)


TEDDY = SHARED_DATA / "teddy2020" / "hotspot_messages.csv"
needs_data = pytest.mark.skipif(
    not TEDDY.exists(), reason=f"real data absent: {TEDDY} (../shared/data beside the repository)"
)
BY_HAND = ("丽发新城", "伊景园", "58车贷", "五矿万境")


@needs_data
@pytest.mark.data
def test_clusters_found_by_hand_are_in_the_top_10() -> None:
    found = hotspots(read_csv(TEDDY), top=10)
    assert len(found) == 10
    for name in BY_HAND:
        assert any(
            name in h.name or name in " ".join(h.key_terms) or any(name in t for t in h.titles)
            for h in found
        ), (name, [h.name for h in found])


@needs_data
@pytest.mark.data
def test_cli_hotspots_from_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    # the commands on a parser of their own: the analytics group lists them (analytics_cli)
    parser = argparse.ArgumentParser(prog="minsheng analytics")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        [
            "hotspots",
            "--csv",
            str(TEDDY),
            "--mapping",
            "teddy2020",
            "--from",
            "2019-01-01",
            "--to",
            "2019-12-31",
            "--top",
            "10",
            "--json",
        ]
    )
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["from"] == "2019-01-01" and len(out["hotspots"]) == 10
    names = " ".join(h["name"] + " ".join(h["titles"]) for h in out["hotspots"])
    assert sum(n in names for n in BY_HAND) >= 3
