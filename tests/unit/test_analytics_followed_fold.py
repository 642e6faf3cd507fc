"""督办, 领导包案 and 去市/赴省/进京 (by the source and the receiving desk's level) in the fold
and the counters (pure, no database): known answers on hand-built events, and the same fact
whatever the order of the events."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.analytics.metric import fold
from services.analytics.metric.counters import counts, visit_level
from services.analytics.metric.definitions import RATES
from shared.events import casework as cw
from shared.events.envelope import Envelope, EventPayload
from shared.events.intake import PetitionReceivedV1

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
CASE = "case-1"


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def env(event: EventPayload, seq: int) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(),
        type=event.type,
        version=event.version,
        occurred_at=T0,
        producer="casework" if event.type.startswith("casework") else "intake",
        trace_id="t",
        aggregate_id=CASE,
        aggregate_seq=seq,
        payload=event.model_dump(mode="json"),
    )


def milestone(cls: type[cw._CaseMilestone], when: datetime, **kw: Any) -> cw._CaseMilestone:
    return cls(case_id=CASE, tracking_no="T", status="x", occurred_at=when, actor="staff", **kw)


def supervised(sid: str, when: float, due: float) -> cw._CaseMilestone:
    return milestone(
        cw.CaseSupervisedV1,
        at(when),
        supervision_id=sid,
        supervising_unit_id="OFFICE",
        supervision_due_at=at(due),
        reason="督办",
    )


def replied(when: float, stage: str = "reply") -> cw._CaseMilestone:
    return milestone(cw.CaseRepliedV1, at(when), stage=stage, decisions=["support"], on_time=True)


def leader(when: float, resolve_by: float, leader_id: str = "L1") -> cw._CaseMilestone:
    return milestone(
        cw.CaseLeaderAssignedV1,
        at(when),
        leader_id=leader_id,
        leader_name="王局长",
        lead_unit_id="U1",
        resolve_by=at(resolve_by),
    )


def received(**kw: Any) -> PetitionReceivedV1:
    base: dict[str, Any] = {
        "case_id": CASE,
        "tracking_no": "T",
        "source": "visit",
        "channel": "visit",
        "title": "t",
        "content": "c",
        "region_code": "440306001",
        "received_at": T0,
    }
    base.update(kw)
    base.setdefault("collective", base.get("people_count", 1) >= 5)
    return PetitionReceivedV1(**base)


def folded(events: list[tuple[EventPayload, int]]) -> fold.Fact:
    facts = {CASE: fold.blank(CASE)}
    for event, seq in events:
        e = env(event, seq)
        parsed = fold.parse(e)
        assert parsed is not None
        fold.apply(facts, e, parsed)
    return facts[CASE]


def state(f: fold.Fact) -> tuple[Any, Any, Any]:
    return f["supervision_on_time"], f["supervision_late"], f["supervision_open_due"]


def test_the_new_events_are_folded_not_ignored() -> None:
    assert {cw.CaseSupervisedV1.type, cw.CaseLeaderAssignedV1.type} <= fold.EVENT_TYPES
    f = folded([(supervised("s1", 1, 10), 2), (leader(2, 30), 3)])
    assert f["supervised_at"] == at(1) and f["supervision_count"] == 1
    assert f["leader_at"] == at(2) and f["resolve_by"] == at(30) and f["leader_id"] == "L1"


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # replied by the due time
        ([supervised("a", 1, 10), replied(5)], (True, False, None)),
        # replied after it: late
        ([supervised("a", 1, 10), replied(12)], (False, True, None)),
        # a reply before the supervision is not its reply: still open, due at day 10
        ([replied(0.5), supervised("a", 1, 10)], (False, False, at(10))),
        # supervised twice: the first answered in time, the second late → late
        (
            [supervised("a", 1, 10), replied(5), supervised("b", 20, 30), replied(35)],
            (False, True, None),
        ),
        # supervised twice, the first answered late, the second in time → still late
        (
            [supervised("a", 1, 10), replied(12), supervised("b", 20, 30), replied(25)],
            (False, True, None),
        ),
        # supervised twice, both in time (a review-stage reply answers the second)
        (
            [supervised("a", 1, 10), replied(5), supervised("b", 20, 30), replied(25, "review")],
            (True, False, None),
        ),
        # the second supervision still open: not on time (yet), open due at day 30
        ([supervised("a", 1, 10), replied(5), supervised("b", 20, 30)], (False, False, at(30))),
    ],
)
def test_supervision_state_in_any_order(
    events: list[EventPayload], expected: tuple[Any, Any, Any]
) -> None:
    seqs = list(enumerate(events, start=2))
    first = folded([(e, s) for s, e in seqs])
    assert state(first) == expected
    for order in itertools.permutations(seqs):
        f = folded([(e, s) for s, e in order])
        assert state(f) == expected
        assert f["supervisions"] == first["supervisions"]
        assert f["reply_times"] == first["reply_times"]


def test_supervision_counters() -> None:
    base = [(received(channel="web", source="citizen"), 1)]
    on_time = counts(folded([*base, (supervised("a", 1, 10), 2), (replied(5), 3)]))
    late = counts(folded([*base, (supervised("a", 1, 10), 2), (replied(12), 3)]))
    pending = counts(folded([*base, (supervised("a", 1, 10), 2)]))
    assert (on_time.get("supervised"), on_time.get("supervised_on_time")) == (1, 1)
    assert "supervised_late" not in on_time
    assert (late.get("supervised"), late.get("supervised_late")) == (1, 1)
    assert "supervised_on_time" not in late
    # unanswered: counted as overdue only when read past its due time (AS_OF_COUNTERS)
    assert pending.get("supervised") == 1
    assert not {"supervised_on_time", "supervised_late"} & set(pending)
    rate = RATES["supervised_on_time"]
    c = {"supervised_on_time": 2.0, "supervised_late": 1.0, "supervised_overdue": 1.0}
    assert (rate.numerator_of(c), rate.denominator_of(c), rate.value_of(c)) == (2, 4, 0.5)


def _leader_case(*tail: tuple[EventPayload, int]) -> dict[str, int]:
    head: list[tuple[EventPayload, int]] = [
        (received(channel="web", source="citizen"), 1),
        (milestone(cw.CaseAcceptedV1, at(1), handling_path="claim", on_time=True), 2),
    ]
    return counts(folded([*head, *tail]))


def test_leader_counters_follow_the_resolution_rate() -> None:
    resolved = _leader_case(
        (leader(2, 30), 3), (milestone(cw.CaseClosedV1, at(20), resolved=True), 4)
    )
    assert {k: resolved.get(k) for k in ("leader_cases", "leader_due_close", "leader_closed")} == {
        "leader_cases": 1,
        "leader_due_close": 1,
        "leader_closed": 1,
    }
    assert resolved.get("leader_resolved") == resolved.get("leader_resolved_by_due") == 1
    late = _leader_case((leader(2, 30), 3), (milestone(cw.CaseClosedV1, at(40), resolved=True), 4))
    assert late.get("leader_resolved") == 1 and "leader_resolved_by_due" not in late
    unresolved = _leader_case(
        (leader(2, 30), 3), (milestone(cw.CaseClosedV1, at(20), resolved=False), 4)
    )
    assert unresolved.get("leader_closed") == 1 and "leader_resolved" not in unresolved
    # a second 包案 (a new leader) replaces the deadline: resolved by the new one
    handed = _leader_case(
        (leader(2, 10), 3),
        (leader(5, 60, "L2"), 4),
        (milestone(cw.CaseClosedV1, at(40), resolved=True), 5),
    )
    assert handed.get("leader_cases") == 1 and handed.get("leader_resolved_by_due") == 1
    # the same in either order of arrival of the two 包案 (the higher seq wins)
    f = folded(
        [
            (received(channel="web", source="citizen"), 1),
            (leader(5, 60, "L2"), 4),
            (leader(2, 10), 3),
        ]
    )
    assert (f["leader_id"], f["resolve_by"], f["leader_at"], f["leader_count"]) == (
        "L2",
        at(60),
        at(2),
        2,
    )
    # withdrawn before closing: out of the denominator, as for 化解率
    withdrawn = _leader_case(
        (leader(2, 30), 3),
        (
            cw.CaseWithdrawnV1(
                case_id=CASE,
                tracking_no="T",
                status="withdrawn",
                withdrawn_at=at(4),
                by="citizen",
                public_message="",
            ),
            4,
        ),
    )
    assert withdrawn.get("leader_cases") == 1 and "leader_due_close" not in withdrawn
    # no 包案: none of the leader counters, though resolved
    plain = _leader_case((milestone(cw.CaseClosedV1, at(20), resolved=True), 3))
    assert plain.get("resolved") == 1 and not any(k.startswith("leader") for k in plain)


@pytest.mark.parametrize(
    ("kw", "level"),
    [
        ({}, "city"),
        ({"source": "province_assign"}, "province"),
        ({"source": "province_transfer"}, "province"),
        ({"source": "province_transfer", "channel": "letter"}, None),
        ({"source": "assigned_from_above"}, None),
        (
            {"source": "assigned_from_above", "external_ids": {"national_case_no": "GJ1"}},
            "national",
        ),
        ({"source": "province_assign", "source_category": "国家信访局转办"}, "national"),
        ({"source": "assigned_from_above", "source_category": "进京上访交办"}, "national"),
        ({"source": "citizen", "channel": "web", "external_ids": {"national_case_no": "X"}}, None),
        ({"source": "hotline", "channel": "phone"}, None),
        # by the level of the desk that registered it (received_level)
        ({"received_level": "city"}, "city"),
        ({"received_level": "province"}, "province"),
        ({"received_level": "district"}, None),
        ({"received_level": "street"}, None),
        ({"received_level": "community"}, None),
        ({"received_level": None}, "city"),  # not known (older events): 去市, as before
        ({"received_level": "district", "channel": "letter", "source": "letter"}, None),
        # the platform's and the national marker come first, whatever the desk
        ({"source": "province_assign", "received_level": "district"}, "province"),
        (
            {
                "source": "assigned_from_above",
                "external_ids": {"national_case_no": "GJ2"},
                "received_level": "district",
            },
            "national",
        ),
    ],
)
def test_visit_levels(kw: dict[str, Any], level: str | None) -> None:
    f = folded([(received(**kw), 1)])
    assert f["received_level"] == kw.get("received_level")
    assert visit_level(f) == level


def test_visit_level_of_a_fact_row_without_the_column() -> None:
    """A fact row as stored before ``received_level`` existed: a desk visit is 去市."""
    assert visit_level({"channel": "visit", "source": "visit"}) == "city"
    assert visit_level({"channel": "visit", "source": "visit", "received_level": "city"}) == "city"
    assert (
        visit_level({"channel": "visit", "source": "visit", "received_level": "district"}) is None
    )


def test_only_the_city_desk_counts_as_visit_city() -> None:
    district = counts(folded([(received(people_count=6, received_level="district"), 1)]))
    assert district["visit_collective_batches"] == 1 and district["visit_collective_people"] == 6
    assert not any(
        k.startswith(("visit_city", "visit_province", "visit_national")) for k in district
    )
    city = counts(folded([(received(people_count=6, received_level="city"), 1)]))
    assert (city["visit_city"], city["visit_city_people"]) == (1, 6)
    assert (city["visit_city_collective"], city["visit_city_collective_people"]) == (1, 6)
    assert city["visit_collective_batches"] == district["visit_collective_batches"]


def test_visit_level_counts_in_batches_and_person_times() -> None:
    c = counts(folded([(received(source="province_assign", people_count=7), 1)]))
    assert (c["visit_province"], c["visit_province_people"]) == (1, 7)
    assert (c["visit_province_collective"], c["visit_province_collective_people"]) == (1, 7)
    assert (c["visit_collective_batches"], c["visit_collective_people"]) == (1, 7)
    c = counts(folded([(received(people_count=2), 1)]))
    assert (c["visit_city"], c["visit_city_people"]) == (1, 2)
    assert "visit_city_collective" not in c and "visit_province" not in c


def test_a_desk_correction_of_the_petitioners_replaces_the_person_keys() -> None:
    from collections import defaultdict

    from shared.events.intake import PetitionAmendedV1

    facts: dict[str, Any] = defaultdict(lambda: fold.blank(CASE))
    amended = PetitionAmendedV1(
        case_id=CASE,
        tracking_no="T",
        revision=2,
        source="registrar",
        changed={"petitioners": None},
        amended_at=at(1),
        person_keys=["k2", "k1", "k2"],
    )
    change = fold.apply(facts, env(amended, 2), amended)
    assert change is not None and change.values == {"person_keys": ["k1", "k2"]}
    # an amendment that leaves the petitioners alone says nothing about them
    other = amended.model_copy(update={"revision": 3, "person_keys": None,
                                       "changed": {"title": "新标题"}})  # fmt: skip
    change = fold.apply(facts, env(other, 3), other)
    assert change is not None and change.values == {"title": "新标题"}
