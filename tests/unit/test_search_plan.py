"""The search plan's arithmetic: how much of the newest cases to read, and when."""

from __future__ import annotations

from services.casework.case import search_plan


def test_next_window_grows_from_the_density_seen() -> None:
    assert search_plan.next_window(search_plan.PROBE, 0, 26) == 0  # nothing seen: plain query
    grown = search_plan.next_window(500, 5, 26)
    assert grown == 5200  # twice what 5 matches in 500 cases ask for 26
    assert search_plan.next_window(500, 300, 26) == 1000  # at least double
    assert search_plan.next_window(search_plan.WINDOW, 10, 26) == 0
    assert search_plan.next_window(15_000, 1, 26) == search_plan.WINDOW


def test_the_rarest_term_bounds_the_share() -> None:
    stats = search_plan.TermStats({"噪音": 0.07, "音扰": 0.027, "扰民": 0.078}, 0.003, 1e6, 0)
    assert stats.upper_share(["噪音", "音扰", "扰民"]) == 0.027
    assert stats.upper_share(["物业", "业电"]) == 0.003  # not common: below the floor
    assert stats.worth_a_window(["噪音", "音扰", "扰民"])
    assert stats.worth_a_window(["噪音"])  # one common word: its bit, in the signatures' index
    assert not stats.worth_a_window(["噪音"], signed=False)  # PostgreSQL plans it well
    assert not stats.worth_a_window(["业电"])  # a rare one: the GIN index
    assert not stats.worth_a_window(["业电", "物业"])  # at most 3,000 cases: the GIN index
    assert stats.worth_a_window(["楼:*", "噪音"])  # the whole word sets a bit
    assert not stats.worth_a_window(["楼:*", "噪音"], signed=False)
    assert not stats.worth_a_window(["楼:*"])  # a prefix alone sets none


def test_the_partial_indexes_cover_the_open_states() -> None:
    from services.casework.case import workflow
    from services.casework.models import OPEN_STATUSES

    assert sorted(OPEN_STATUSES) == sorted(workflow.OPEN)


def test_rare_terms_are_tested_first() -> None:
    stats = search_plan.TermStats({"噪音": 0.07, "音扰": 0.027, "扰民": 0.078}, 0.003, 1e6, 0)
    assert stats.rarest_first(["噪音", "音扰", "扰民", "业电"]) == ["业电", "音扰", "噪音", "扰民"]


def test_signature_bits_are_distinct_and_skip_prefixes() -> None:
    bits = search_plan.signature_bits(["噪音", "音扰", "噪音", "楼:*"])
    assert len(bits) == 2 and all(0 <= b < search_plan.SIGNATURE_BITS for b in bits)
    text_bits = search_plan.signature(["噪音", "音扰"])
    assert [i for i, c in enumerate(text_bits) if c == "1"] == sorted(bits)
