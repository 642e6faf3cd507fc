"""The set-based intake path (``petition.service.take_in_many`` and the hotline's
``push_many``) against the real PostgreSQL: it stores and emits exactly what taking the same
petitions in one at a time does — idempotency on the hotline's order_no + revision within a
batch and across batches, invalid items storing nothing, people linked across the items of
one batch (flagged identifiers never), prior cases resolved in list order, the same events
with the same payloads — and it stays right when a concurrent transaction links the same
new person first."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from services.intake.petition import service as petition_service
from services.intake.petition.normalized import (
    Channel,
    NormalizedPetition,
    Person,
    QualityFlag,
    Source,
)
from shared.clock import SHANGHAI, system_clock
from shared.crypto import open_pii, redact, redact_many
from shared.db import Database
from shared.security import keys_for
from shared.settings import Settings
from tests.contract.test_hotline import Hotline, order
from tests.integration.test_slice import intake_client

pytestmark = pytest.mark.asyncio(loop_scope="session")

BATCH = "/api/v1/hotline/work-orders/batch"
SINGLE = "/api/v1/hotline/work-orders"


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction("intake") as conn:
        return list((await conn.execute(text(sql), params)).all())


async def one(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction("intake") as conn:
        return await conn.scalar(text(sql), params)


@pytest.fixture(params=["whole", "pipelined"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each list stored whole, or through ``take_in_many``'s pipeline in chunks of two (chunk
    boundaries inside the list: a later chunk must see what an earlier one stored)."""
    if request.param == "pipelined":
        monkeypatch.setattr(petition_service, "PIPELINE_CHUNK", 2)
    return str(request.param)


async def test_repeats_inside_a_batch_and_across_batches_make_one_petition_each(
    settings: Settings, db: Database, clean: None
) -> None:
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        first = await hotline.post(
            BATCH,
            {
                "orders": [
                    order("GD-R-A"),
                    order("GD-R-B"),
                    order("GD-R-A"),  # a retry inside the batch
                    order("GD-R-C"),
                    order("GD-R-A", 3, title="油烟扰民（第三版）"),  # amended inside the batch
                    order("GD-R-A", 2, title="过时的第二版"),  # stale after revision 3
                ]
            },
        )
        assert first.status_code == 200, first.text
        a = first.json()["results"]
        assert [x["http_status"] for x in a] == [201, 201, 200, 201, 200, 200]
        assert len({a[i]["case_id"] for i in (0, 2, 4, 5)}) == 1
        assert len({a[0]["case_id"], a[1]["case_id"], a[3]["case_id"]}) == 3
        assert all(x["status"] == "received" and x["errors"] == [] for x in a)
        assert a[2]["tracking_no"] == a[0]["tracking_no"]
        # the same orders again, one amended: repeats and an amendment, nothing new
        again = await hotline.post(
            BATCH,
            {
                "orders": [
                    order("GD-R-C"),
                    order("GD-R-B", 2, urgency="urgent"),
                    order("GD-R-A"),
                    order("GD-R-D"),
                ]
            },
        )
        b = again.json()["results"]
        assert [x["http_status"] for x in b] == [200, 200, 200, 201]
        assert [x["case_id"] for x in b[:3]] == [a[3]["case_id"], a[1]["case_id"], a[0]["case_id"]]
        # and one order alone, as the single push: a repeat
        single = await hotline.post(SINGLE, order("GD-R-B", 2))
        assert single.status_code == 200 and single.json()["case_id"] == a[1]["case_id"]
    assert await one(db, "SELECT count(*) FROM intake.petition") == 4
    assert await one(db, "SELECT count(*) FROM intake.external_ref") == 4
    refs = await rows(
        db,
        "SELECT r.external_id, r.revision, p.title, p.urgency FROM intake.external_ref r "
        "JOIN intake.petition p USING (case_id) ORDER BY r.external_id",
    )
    assert [(r.external_id, r.revision) for r in refs] == [
        ("GD-R-A", 3),
        ("GD-R-B", 2),
        ("GD-R-C", 1),
        ("GD-R-D", 1),
    ]
    assert refs[0].title == "油烟扰民（第三版）" and refs[1].urgency == "urgent"
    events = await rows(
        db,
        "SELECT type, aggregate_id, aggregate_seq FROM intake.outbox_event ORDER BY position",
    )
    assert (
        sorted(e.type for e in events)
        == ["intake.petition.amended"] * 2 + ["intake.petition.received"] * 4
    )
    # per case: received first, then its amendment
    by_case: dict[str, list[tuple[int, str]]] = {}
    for e in events:
        by_case.setdefault(e.aggregate_id, []).append((e.aggregate_seq, e.type))
    for seq in by_case.values():
        assert min(seq)[1] == "intake.petition.received"
        assert [s for s, _ in sorted(seq)] == list(range(1, len(seq) + 1))
    assert await one(db, "SELECT count(*) FROM intake.petition_history") == 2


async def test_invalid_items_store_nothing_and_the_others_go_in(
    settings: Settings, db: Database, clean: None
) -> None:
    no_caller = order("GD-V-4")
    del no_caller["caller"]
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        r = await hotline.post(
            BATCH,
            {
                "orders": [
                    order("GD-V-1"),
                    order("GD-V-2", content="长" * 5001),
                    order("GD-V-3"),
                    no_caller,
                    "not an order",
                    order("GD-V-2"),  # the same number, now valid: it is new
                ]
            },
        )
    results = r.json()["results"]
    assert [x["http_status"] for x in results] == [201, 422, 201, 422, 422, 201]
    assert [x["order_no"] for x in results] == [
        "GD-V-1",
        "GD-V-2",
        "GD-V-3",
        "GD-V-4",
        None,
        "GD-V-2",
    ]
    assert results[1]["errors"][0]["field"] == "orders[1].content"
    assert results[3]["errors"][0]["field"] == "orders[3].caller"
    assert all(results[i]["case_id"] is None for i in (1, 3, 4))
    stored = await rows(db, "SELECT external_id FROM intake.external_ref ORDER BY external_id")
    assert [s[0] for s in stored] == ["GD-V-1", "GD-V-2", "GD-V-3"]
    assert await one(db, "SELECT count(*) FROM intake.petition") == 3
    assert await one(db, "SELECT count(*) FROM intake.outbox_event") == 3
    assert await one(db, "SELECT count(*) FROM intake.petitioner") == 3


def petition(
    title: str,
    *people: Person,
    flags: list[QualityFlag] | None = None,
    prior: list[str] | None = None,
) -> NormalizedPetition:
    return NormalizedPetition(
        source=Source.PROVINCE_TRANSFER,
        channel=Channel.PLATFORM,
        petitioners=list(people),
        title=title,
        content=f"{title}：联系电话13800138000，请尽快处理。",
        region_code="440306",
        address="宝安区西乡街道",
        received_at=datetime(2026, 11, 22, 9, 15, tzinfo=SHANGHAI),
        quality_flags=flags or [],
        prior_external_ids=prior or [],
    )


async def test_people_are_linked_across_the_items_of_one_batch(
    settings: Settings, db: Database, clean: None, chunking: str
) -> None:
    keys = keys_for(settings)
    items = [
        petition_service.Intake(petition("一", Person(name="甲", phone="13900000001"))),
        # the same phone in a later item: the same person
        petition_service.Intake(petition("二", Person(name="甲", phone="13900000001"))),
        # an ID number with that phone: the same person, and the ID number joins it
        petition_service.Intake(
            petition("三", Person(name="甲", id_number="11010519491231002X", phone="13900000001"))
        ),
        # the ID number alone, later: found through what item three attached
        petition_service.Intake(petition("四", Person(name="甲", id_number="11010519491231002X"))),
        # a flagged (unverified) phone is never used for linking
        petition_service.Intake(
            petition(
                "五",
                Person(name="乙", unverified={"phone": "13900000001x"}),
                flags=[QualityFlag(field="petitioners[0].phone", code="invalid_phone")],
            )
        ),
        # two petitioners, one new person and one known
        petition_service.Intake(
            petition(
                "六",
                Person(name="丙", phone="13900000002", representative=True),
                Person(name="甲", phone="13900000001"),
            )
        ),
    ]
    async with db.transaction("intake") as conn:
        created = await petition_service.take_in_many(
            conn, items=items, keys=keys, clock=system_clock
        )
    assert len({c.case_id for c in created}) == 6
    people = await rows(
        db,
        "SELECT p.title, p.person_id, array_agg(t.person_id ORDER BY t.ordinal) AS linked "
        "FROM intake.petition p JOIN intake.petitioner t USING (case_id) "
        "GROUP BY p.case_id, p.title ORDER BY p.title",
    )
    by_title = {r.title: r for r in people}
    jia = by_title["一"].person_id
    assert jia is not None
    assert [by_title[t].person_id for t in ("二", "三", "四")] == [jia, jia, jia]
    assert by_title["五"].person_id is None and by_title["五"].linked == [None]
    bing = by_title["六"].person_id
    assert bing not in (None, jia) and by_title["六"].linked == [bing, jia]
    assert await one(db, "SELECT count(*) FROM intake.person") == 2
    identifiers = await rows(
        db, "SELECT kind, person_id FROM intake.person_identifier ORDER BY kind, person_id"
    )
    assert sorted((k, p == jia) for k, p in identifiers) == [
        ("id_number", True),
        ("phone", False),
        ("phone", True),
    ]
    # the event carries each petitioner's strongest identifier's keyed hash
    keys_of = {
        r[0]: r[1]
        for r in await rows(
            db,
            "SELECT payload->>'title', payload->'person_keys' FROM intake.outbox_event",
        )
    }
    phone = keys.hash.digest("phone", "13900000001")
    assert keys_of["一"] == keys_of["二"] == [phone]
    assert keys_of["三"] == keys_of["四"] == [keys.hash.digest("id_number", "11010519491231002X")]
    assert keys_of["五"] == []
    assert keys_of["六"] == [keys.hash.digest("phone", "13900000002"), phone]


async def test_prior_cases_resolve_in_list_order(
    settings: Settings, db: Database, clean: None, chunking: str
) -> None:
    keys = keys_for(settings)
    ref = petition_service.ExternalRef

    async with db.transaction("intake") as conn:
        earlier = await petition_service.take_in(
            conn, petition=petition("早"), keys=keys, clock=system_clock, external=ref("p", "P0")
        )
        created = await petition_service.take_in_many(
            conn,
            items=[
                petition_service.Intake(petition("一", prior=["P0", "P2"]), ref("p", "P1")),
                # P1 is an earlier item: known; P3 a later one: not yet; P2 named twice
                petition_service.Intake(
                    petition("二", prior=["P1", "P3", "P1", "P9", "P2"]), ref("p", "P2")
                ),
                petition_service.Intake(petition("三", prior=["P2"]), ref("p", "P3")),
                # without an external ref, a petition names no prior cases
                petition_service.Intake(petition("四", prior=["P0"])),
            ],
            keys=keys,
            clock=system_clock,
        )
    priors = {
        r[0]: json.loads(r[1])
        for r in await rows(
            db,
            "SELECT payload->>'title', (payload->'prior_case_ids')::text FROM intake.outbox_event",
        )
    }
    assert priors["一"] == [earlier.case_id]
    assert priors["二"] == [created[0].case_id]
    assert priors["三"] == [created[1].case_id]
    assert priors["四"] == []
    links = await rows(
        db,
        "SELECT p.title, l.prior_external_id, l.prior_case_id FROM intake.prior_case_link l "
        "JOIN intake.petition p USING (case_id) ORDER BY p.title, l.prior_external_id",
    )
    assert [(t, e, str(c) if c else None) for t, e, c in links] == [
        ("一", "P0", earlier.case_id),
        ("一", "P2", None),
        ("三", "P2", created[1].case_id),
        ("二", "P1", created[0].case_id),
        ("二", "P2", None),
        ("二", "P3", None),
        ("二", "P9", None),
    ]


def _comparable(payload: dict[str, Any], keys: Any) -> dict[str, Any]:
    """An event's payload without what differs between two takes of one petition: its ids,
    the sealed envelope's ciphertext (opened instead) and the query code drawn for it."""
    out = {k: v for k, v in payload.items() if k not in ("case_id", "tracking_no", "pii")}
    out["external_ids"] = {k: v.split("-", 1)[1] for k, v in payload["external_ids"].items()}
    pii = open_pii(keys.ring, payload["pii"])
    assert pii.pop("query_code").isdigit()
    out["pii"] = pii
    return out


async def test_a_batch_emits_and_stores_what_single_pushes_do(
    settings: Settings, db: Database, clean: None, chunking: str
) -> None:
    variants: list[dict[str, Any]] = [
        {},
        {"caller": {"name": "李四", "phone": "12345", "id_number": "440306198001011230"}},
        {"anonymous": True, "caller": None},
        {"content": "请联系13800138000或身份证110105194912310021的人", "urgency": "urgent"},
        {"category": "没有这个标签", "location": None, "due_at": None},
        {"caller": {"name": "王五", "phone": "13900000009", "id_number": "11010519491231002X"}},
    ]
    keys = keys_for(settings)
    async with intake_client(settings) as client:
        hotline = Hotline(client)
        for i, over in enumerate(variants):
            r = await hotline.post(SINGLE, order(f"S-{i}", **over))
            assert r.status_code == 201, r.text
        r = await hotline.post(
            BATCH, {"orders": [order(f"B-{i}", **over) for i, over in enumerate(variants)]}
        )
        assert [x["http_status"] for x in r.json()["results"]] == [201] * len(variants)
    events = await rows(
        db,
        "SELECT e.payload FROM intake.outbox_event e ORDER BY e.payload->'external_ids'->>"
        "'hotline_order_no'",
    )
    payloads = {e[0]["external_ids"]["hotline_order_no"]: e[0] for e in events}
    for i in range(len(variants)):
        single, batch = payloads[f"S-{i}"], payloads[f"B-{i}"]
        assert _comparable(single, keys) == _comparable(batch, keys), i
    # what was stored is the same too, person links included
    columns = ", ".join(
        f"p.{c}"
        for c in (
            "source, channel, title, content, category_code, source_category, region_code, "
            "received_at, people_count, anonymous, accusation, person_id, lat, lng, urgency, "
            "source_deadline, quality_flags, public_attention, registered_by, revision, status, "
            "original_enc IS NULL"
        ).split(", ")
    )
    stored = {
        r[0]: r[1:]
        for r in await rows(
            db,
            f"SELECT x.external_id, {columns} FROM intake.petition p "
            "JOIN intake.external_ref x USING (case_id)",
        )
    }
    for i in range(len(variants)):
        assert stored[f"S-{i}"] == stored[f"B-{i}"], i
    decrypted = {
        r[0]: [keys.ring.decrypt_text(v) for v in r[1:]]
        for r in await rows(
            db,
            "SELECT x.external_id, p.pii_enc, p.address_enc, p.original_enc FROM intake.petition "
            "p JOIN intake.external_ref x USING (case_id)",
        )
    }
    for i in range(len(variants)):
        assert decrypted[f"S-{i}"] == decrypted[f"B-{i}"], i
    # the petition whose text held numbers keeps them only encrypted
    assert stored["B-3"][-1] is False
    assert "13800138000" not in stored["B-3"][3] and "138****8000" in stored["B-3"][3]


async def test_a_concurrent_first_petition_of_the_same_person_wins(
    settings: Settings, db: Database, clean: None
) -> None:
    """Two transactions take in petitions of one new person at once: the one that commits
    first creates the person; the other then links to it and leaves no person behind."""
    keys = keys_for(settings)
    person = Person(name="丁", phone="13900000077", id_number="11010519491231002X")
    first_linked = asyncio.Event()

    async def first() -> str:
        async with db.transaction("intake") as conn:
            created = await petition_service.take_in(
                conn, petition=petition("先", person), keys=keys, clock=system_clock
            )
            first_linked.set()
            await asyncio.sleep(0.5)  # the second is now waiting on our identifiers
            return created.case_id

    async def second() -> str:
        await first_linked.wait()
        async with db.transaction("intake") as conn:
            created = await petition_service.take_in_many(
                conn,
                items=[
                    petition_service.Intake(petition("后", person)),
                    petition_service.Intake(petition("再", Person(phone="13900000077"))),
                ],
                keys=keys,
                clock=system_clock,
            )
            return created[0].case_id

    await asyncio.gather(first(), second())
    assert await one(db, "SELECT count(*) FROM intake.person") == 1
    assert await one(db, "SELECT count(DISTINCT person_id) FROM intake.petition") == 1
    assert await one(db, "SELECT count(*) FROM intake.petition WHERE person_id IS NULL") == 0
    assert await one(db, "SELECT count(*) FROM intake.person_identifier") == 2


async def test_a_failure_while_preparing_leaves_nothing_stored(
    settings: Settings, db: Database, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's third chunk fails to prepare while the second is being stored: the
    chunk in flight finishes on the connection, the error reaches the caller, and the
    transaction stores nothing."""
    keys = keys_for(settings)
    monkeypatch.setattr(petition_service, "PIPELINE_CHUNK", 2)
    real = petition_service.prepare_many
    calls = 0

    def failing(items: Any, *, keys: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("prepare failed")
        return real(items, keys=keys)

    monkeypatch.setattr(petition_service, "_YIELD_EVERY", 2)  # one prepare_many per chunk
    monkeypatch.setattr(petition_service, "prepare_many", failing)
    with pytest.raises(RuntimeError, match="prepare failed"):
        async with db.transaction("intake") as conn:
            await petition_service.take_in_many(
                conn,
                items=[petition_service.Intake(petition(str(n))) for n in range(6)],
                keys=keys,
                clock=system_clock,
            )
    assert calls == 3
    assert await one(db, "SELECT count(*) FROM intake.petition") == 0
    assert await one(db, "SELECT count(*) FROM intake.outbox_event") == 0


async def test_redact_many_is_redact() -> None:
    texts = [
        "电话13800138000联系",
        "+86 138-0013-8000",
        "００８６１３８００１３８０００",
        "座机０７５５-１２３４５６７８，（０７５５）１２３４５６７８",
        "(0755) 12345678 和 0755-1234567",
        "身份证４４０３０６１９９０１２３１２３４X与110105194912310021",
        "订单号202611220001234567890不是号码",
        "2019年3月12日，没有号码",
        "",
        "纯文字",
    ]
    assert redact_many([*texts, None]) == [redact(t) for t in texts] + [None]
