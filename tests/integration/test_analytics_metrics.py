"""Analytics read model on a hand-built event history with known answers: every rate of
domain §5, live == rebuild, duplicate delivery, cross-producer order, scoping."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.analytics.metric import service
from services.analytics.metric.counters import GRAINS
from services.analytics.metric.definitions import RATES, hotline_score
from services.analytics.metric.handlers import HANDLERS
from services.analytics.metric.rebuild import rebuild
from shared.bus import BusContext
from shared.bus.consumer import Consumer
from shared.bus.outbox import publish
from shared.bus.worker import open_redis
from shared.db import Database
from shared.events import casework as cw
from shared.events.envelope import Envelope, EventPayload
from shared.events.intake import HotlineEvaluationReceivedV1, PetitionReceivedV1
from shared.events.notify import EvaluationRecordedV1
from shared.identity.principal import Principal
from shared.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")

BAOAN = "440306001"  # a street of 宝安区
T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


class History:
    """Events written to the producers' real logs, kept to deliver them to analytics."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.log: list[Envelope] = []
        self.cases: dict[str, dict[str, Any]] = {}

    async def _pub(self, producer: str, event: EventPayload, case: str, when: datetime) -> None:
        async with self.db.transaction(producer) as conn:
            env = await publish(
                conn, producer=producer, event=event, aggregate_id=case, occurred_at=when
            )
        self.log.append(env)

    async def received(
        self,
        name: str,
        when: datetime,
        *,
        channel: str = "web",
        source: str = "citizen",
        region: str = BAOAN,
        category: str = "C01.01.01",
        people: int = 1,
        prior: list[str] | None = None,
        accusation: bool = False,
    ) -> str:
        case = str(uuid.uuid4())
        self.cases[name] = {"id": case, "region": region, "category": category, "source": source}
        await self._pub(
            "intake",
            PetitionReceivedV1(
                case_id=case,
                tracking_no=f"T-{name}",
                source=source,
                channel=channel,
                title=f"诉求{name}",
                content="内容",
                category_code=category,
                region_code=region,
                received_at=when,
                people_count=people,
                collective=people >= 5,
                accusation=accusation,
                person_keys=[f"pk-{name}"],
                prior_case_ids=[self.cases[p]["id"] for p in prior or []],
            ),
            case,
            when,
        )
        return case

    async def cw(self, name: str, cls: type[cw.EventPayload], when: datetime, **kw: Any) -> None:
        c = self.cases[name]
        base: dict[str, Any] = {"case_id": c["id"], "tracking_no": f"T-{name}", "status": "x"}
        if cls is cw.CaseRegisteredV1:
            base.update(
                source=c["source"],
                channel="web",
                category_code=c["category"],
                region_code=c["region"],
                registered_at=when,
                public_message="",
                office_unit_id="OFFICE",
            )
        elif cls is not cw.CaseWithdrawnV1:
            base.update(
                occurred_at=when,
                actor="staff",
                unit_id="OFFICE",
                region_code=c["region"],
                category_code=c["category"],
                source=c["source"],
            )
        base.update(kw)
        await self._pub("casework", cls(**base), c["id"], when)

    async def rated(self, name: str, when: datetime, unit: str, office: str) -> None:
        c = self.cases[name]
        await self._pub(
            "notify",
            EvaluationRecordedV1(
                case_id=c["id"],
                tracking_no=f"T-{name}",
                unit_rating=unit,
                office_rating=office,
                rated_at=when,
                channel="link",
            ),
            c["id"],
            when,
        )
        await self.cw(name, cw.CaseEvaluatedV1, when, unit_rating=unit, office_rating=office)

    async def hotline(self, name: str, when: datetime, **kw: Any) -> None:
        c = self.cases[name]
        await self._pub(
            "intake",
            HotlineEvaluationReceivedV1(
                case_id=c["id"], order_no=f"O-{name}", visited_at=when, **kw
            ),
            c["id"],
            when,
        )


async def build(h: History) -> None:
    """Ten cases; the expected figures are worked out by hand in the tests below."""
    reg, acc, asg = cw.CaseRegisteredV1, cw.CaseAcceptedV1, cw.CaseAssignedV1
    rep, clo = cw.CaseRepliedV1, cw.CaseClosedV1

    async def start(name: str, day: float, on_time: bool = True, **kw: Any) -> None:
        await h.received(name, at(day), **kw)
        await h.cw(name, reg, at(day))
        await h.cw(name, acc, at(day + 1), handling_path="claim", on_time=on_time)
        await h.cw(name, asg, at(day + 2), mode="assign", lead_unit_id="U1")

    # A: everything on time, satisfied, resolved; repeated by G 30 days after closing
    await start("A", 0)
    await h.cw("A", cw.CaseSignedV1, at(2.5))
    await h.cw("A", cw.CaseContactedV1, at(3), method="phone", reached=True, attempts=1)
    await h.cw("A", rep, at(10), stage="reply", decisions=["support"], on_time=True)
    await h.rated("A", at(12), "satisfied", "satisfied")
    await h.cw("A", clo, at(13), resolved=True)
    # B: a letter; extended, replied within the extended deadline; the office rated 不满意
    await start("B", 1, channel="letter", source="letter")
    await h.cw("B", cw.CaseExtendedV1, at(50), clock="handle", days=30, reason="复杂")
    await h.cw("B", rep, at(70), stage="reply", decisions=["explain"], on_time=True)
    await h.rated("B", at(72), "basically_satisfied", "dissatisfied")
    await h.cw("B", clo, at(73), resolved=True)
    # C: accepted late, replied late (handling deadline missed), 不满意 → re-handled → 满意
    await start("C", 2, on_time=False)
    await h.cw("C", cw.CaseDeadlineMissedV1, at(63), clock="handle", deadline=at(62))
    await h.cw("C", rep, at(65), stage="reply", decisions=["reject"], on_time=False)
    await h.rated("C", at(66), "dissatisfied", "dissatisfied")
    await h.cw("C", rep, at(80), stage="reply", decisions=["support"], on_time=True)
    await h.rated("C", at(82), "satisfied", "satisfied")
    await h.cw("C", clo, at(83), resolved=True)
    # D: an individual visit, withdrawn after acceptance
    await start("D", 3, channel="visit", source="visit")
    await h.cw("D", cw.CaseWithdrawnV1, at(6), withdrawn_at=at(6), by="citizen", public_message="")
    # E: replied on time, never rated (超期未评价), resolved at the first attempt
    await start("E", 4)
    await h.cw("E", rep, at(20), stage="reply", decisions=["support"], on_time=True)
    await h.rated("E", at(36), "expired", "expired")
    await h.cw("E", clo, at(37), resolved=True)
    # F: a call, refused on time
    await h.received("F", at(5), channel="phone", source="hotline")
    await h.cw("F", reg, at(5))
    await h.cw("F", cw.CaseRefusedV1, at(6), kind="not_accepted", reason="r", on_time=True)
    # G: a collective visit of 6, repeating A within 90 days of A's closing
    await h.received("G", at(43), channel="visit", source="visit", people=6, prior=["A"])
    # H: an accusation in the same street
    await start("H", 6, accusation=True, category="C09.01.01")
    # I: a 12345 order with two call-backs; the later one counts
    await start("I", 7, channel="phone", source="hotline")
    await h.hotline("I", at(20), contacted=False)
    await h.hotline("I", at(21), contacted=True, solved=True, rating="基本满意")
    # J: another district
    await h.received("J", at(8), region="440303001")


async def consumer(db: Database, settings: Settings) -> Consumer:
    ctx = BusContext(
        service="analytics", settings=settings, db=db, redis=await open_redis(settings)
    )
    return Consumer(ctx, HANDLERS)


async def deliver(c: Consumer, envs: list[Envelope], size: int = 7) -> None:
    for i in range(0, len(envs), size):
        chunk = envs[i : i + size]
        for producer in {e.producer for e in chunk}:
            items = [
                {"delivery_id": n, "event": e.model_dump(mode="json")}
                for n, e in enumerate(chunk)
                if e.producer == producer
            ]
            await c.consume(1, producer, items)


def everyone() -> service.Scope:
    return service.Scope(("44",), True)


async def totals(db: Database, scope: service.Scope, group: str = "none") -> dict[str, Any]:
    async with db.transaction("analytics") as conn:
        return await service.sum_counters(conn, scope, date(2025, 1, 1), date(2025, 12, 31), group)


async def snapshot(db: Database) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with db.transaction("analytics") as conn:
        for table, order in (
            ("case_fact", "case_id"),
            ("case_text", "case_id"),
            ("daily_volume", "day, metric, dimension, value"),
            ("hotline_callback", "case_id, visited_at"),
        ):
            rows = await conn.execute(text(f"SELECT * FROM analytics.{table} ORDER BY {order}"))
            out[table] = [tuple(r) for r in rows]
        for grain in GRAINS:
            rows = await conn.execute(
                text(f"SELECT * FROM analytics.rollup_{grain} ORDER BY 1, 2, 3, 4, 5")
            )
            # a delta may leave a row of zeros behind; a rebuild never writes one
            out[grain] = [tuple(r) for r in rows if any(v for v in tuple(r)[5:])]
    return out


async def test_rates_on_a_hand_built_history(db: Database, settings: Settings, clean: None) -> None:
    h = History(db)
    await build(h)
    await deliver(await consumer(db, settings), h.log)
    c = (await totals(db, everyone()))["all"]

    # volumes: 10 received; letters 1 (B); visits: D individual (1 批, 1 人次), G collective
    # (1 批, 6 人次); calls F, I; online A, C, E, H, J
    assert c["received"] == 10 and c["people"] == 15
    assert (c["letters"], c["visit_individual"], c["visit_individual_people"]) == (1, 1, 1)
    assert (c["visit_collective_batches"], c["visit_collective_people"]) == (1, 6)
    assert (c["calls"], c["online"]) == (2, 5)

    def rate(code: str) -> tuple[float, float]:
        r = RATES[code]
        return (r.numerator_of(c), r.denominator_of(c))

    assert rate("timely_acceptance") == (7, 8)  # A B D E F H I on time; C late
    assert rate("reply_on_time") == (3, 4)  # A B(extended) E; C's first reply late
    assert rate("close_on_time") == (3, 4)
    assert rate("closure") == (4, 6)  # accepted A B C D E H I, D withdrawn
    assert rate("resolution") == (4, 6)
    # A repeated by G (30 days after closing), B office 不满意, C 不满意: only E
    assert rate("one_time_resolution") == (1, 6)
    assert rate("participation_unit") == (3, 4)  # E 超期未评价
    assert rate("satisfaction_unit") == (3, 3)  # A 满意, B 基本满意, C re-rated 满意
    assert rate("satisfaction_office") == (2, 3)  # B 不满意
    assert rate("hotline_response") == (1, 1)  # the later call-back supersedes
    assert rate("hotline_solution") == (1, 1)
    assert rate("hotline_satisfaction") == (0.9, 1)
    assert hotline_score(c, settings) == pytest.approx(100 * (0.1 + 0.5 + 0.4 * 0.9))
    assert rate("repeat") == (1, 10)
    assert rate("revisit") == (3, 4)  # E replied but never reached
    assert (c["extended"], c["deadline_missed"], c["transferred"]) == (1, 1, 0)
    # no 包案 or 督办 in this history: both rates have nothing to divide by
    assert RATES["leader_case_resolution"].value_of(c) is None
    assert RATES["supervised_on_time"].value_of(c) is None
    # 去市: D and G, registered at the desk (source visit); no 赴省 or 进京
    assert (c["visit_city"], c["visit_city_people"], c["visit_city_collective"]) == (2, 7, 1)
    assert c["visit_province"] == c["visit_national"] == 0

    by_unit = await totals(db, everyone(), "unit")
    assert by_unit["U1"]["accepted"] == 7  # H counted for discipline roles
    assert by_unit["OFFICE"]["received"] == 1  # F, refused at the office
    assert set(by_unit) == {"U1", "OFFICE", "unknown"}  # G and J have no office yet


async def test_live_equals_rebuild_and_duplicates_change_nothing(
    db: Database, settings: Settings, clean: None
) -> None:
    h = History(db)
    await build(h)
    con = await consumer(db, settings)
    # casework and notify first, intake last: producers do not order each other
    await deliver(con, [e for e in h.log if e.producer != "intake"], size=5)
    await deliver(con, [e for e in h.log if e.producer == "intake"], size=3)
    live = await snapshot(db)
    # every event again, in another batching: the inbox makes each a no-op
    await deliver(con, list(reversed(h.log)), size=11)
    assert await snapshot(db) == live
    result = await rebuild(db, page=4)
    assert result.events == len(h.log)
    rebuilt = await snapshot(db)
    assert rebuilt == live
    # same figures as in-order delivery
    c = (await totals(db, everyone()))["all"]
    assert (c["received"], c["resolved_once"], c["unit_rated"]) == (10, 1, 3)
    # the district rollups are the full-code ones summed by district, live and rebuilt
    async with db.transaction("analytics") as conn:
        for grain in ("day", "month"):
            cut = await conn.execute(
                text(
                    "SELECT period, substr(region_code, 1, 6), accusation, dim, value, "
                    "sum(received), sum(closed), sum(unit_satisfied) "
                    f"FROM analytics.rollup_{grain} GROUP BY 1, 2, 3, 4, 5 "
                    "HAVING sum(received) + sum(closed) + sum(unit_satisfied) > 0 ORDER BY 1, 2, 3, 4, 5"
                )
            )
            district = await conn.execute(
                text(
                    "SELECT period, region_code, accusation, dim, value, received, closed, "
                    f"unit_satisfied FROM analytics.rollup_{grain}_district "
                    "WHERE received + closed + unit_satisfied > 0 ORDER BY 1, 2, 3, 4, 5"
                )
            )
            assert [tuple(r) for r in district] == [tuple(r) for r in cut] != []
    # a breakdown read from the district rollups equals the one from the full codes
    for group in ("unit", "category", "region"):
        whole = await totals(db, everyone(), group)
        by_street = await totals(db, service.Scope(("440306001", "440303001"), True), group)
        assert whole == by_street and whole
    assert service.uses_district_rollups(everyone(), "unit", "district")
    assert not service.uses_district_rollups(everyone(), "region", "street")
    assert not service.uses_district_rollups(service.Scope(("440306001",), True), "unit", "x")
    # and the live consumer goes on after the swap
    await h.received("K", at(9))
    await deliver(con, h.log[-1:])
    assert (await totals(db, everyone()))["all"]["received"] == 11


async def test_scoping_and_accusations(db: Database, settings: Settings, clean: None) -> None:
    h = History(db)
    await build(h)
    await deliver(await consumer(db, settings), h.log)
    analyst = Principal(
        kind="staff", subject="a", roles=frozenset({"analyst"}), region_codes=("440306",)
    )
    inspector = Principal(
        kind="staff",
        subject="d",
        roles=frozenset({"discipline_inspector"}),
        region_codes=("440306",),
    )
    luohu = Principal(
        kind="staff", subject="l", roles=frozenset({"analyst"}), region_codes=("440303",)
    )
    longgang = Principal(
        kind="staff", subject="g", roles=frozenset({"analyst"}), region_codes=("440307",)
    )
    scope = service.Scope.of(analyst)
    assert (await totals(db, scope))["all"]["received"] == 9  # J is in 罗湖
    assert (await totals(db, service.Scope.of(luohu)))["all"]["received"] == 1
    assert await totals(db, service.Scope.of(longgang)) == {}
    # the accusation H: in the total for everyone, in breakdowns only for discipline roles
    cats = await totals(db, scope, "category")
    assert "C09.01.01" not in cats and sum(v["received"] for v in cats.values()) == 8
    cats = await totals(db, service.Scope.of(inspector), "category")
    assert cats["C09.01.01"]["received"] == 1
    # a region filter never widens the jurisdiction
    assert await totals(db, service.Scope.of(analyst, region="440303")) == {}
    narrowed = await totals(db, service.Scope.of(analyst, region=BAOAN))
    assert narrowed["all"]["received"] == 9
