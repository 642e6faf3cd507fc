"""Tables of the analytics schema: its own read model, built only from events and holding no
personal data (pseudonymous person keys only).

* ``case_fact`` — one row per case, folded from every milestone of intake, casework, notify
  and the hotline's call-backs (``metric/fold.py``). Order-tolerant: each column keeps the
  first / latest value by the event's own time or sequence, so the row does not depend on the
  order in which producers' events arrive.
* ``case_text`` — the redacted title and content of each case with its person keys, region,
  time and public attention: the input of repeat detection, hotspots and screening.
* ``rollup_day`` / ``rollup_month`` — counters of every numerator and denominator of domain
  §5 per (period, region, accusation flag, dimension, value); ``rollup_day_district`` /
  ``rollup_month_district`` the same with the region cut to its district (6 digits). A
  fact's contribution is a pure function of the row; a handler adds
  ``contribution(new) − contribution(old)``, so the rollups always equal the sum over the
  facts (and a rebuild gives the same figures).
* ``daily_volume``, ``hotline_callback`` — the first figures (kept: received / registered
  counts by one dimension; every call-back of the hotline as it came).
* ``case_repeat`` — each received case's repeat fingerprint (the worker's in-memory
  ``RepeatIndex`` is built from these at start) and what the check found: first petition
  (初信初访), repeat links, other people's petitions on the same matter.
* ``case_risk`` and ``screening_item`` — the screening sweep's risk level per open case and
  the screening ledger (排查台账), one item per case, upserted by each sweep;
  ``screening_run`` — the days a sweep ran (a zero report needs one in its period).
* ``unit_label`` — org unit names as casework's events give them (part of the read model).

``case_repeat``, ``case_risk``, ``screening_item`` and ``screening_run`` are not part of
``READ_MODEL``: a rebuild replays events through the fold only, and these are the product of
the analysis (the fingerprints cost jieba and MinHash per case), so they stay across a
rebuild. The fact columns that come from the repeat check (``repeat_detected``, and
``repeat_at`` where the check linked a later petition) are set from ``case_repeat`` in the
transaction that wrote it, and by the rebuild from the same rows before it sums the rollups
(``metric.store.apply_repeats``), so live and rebuilt facts agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.analytics.metric.counters import COUNTERS
from shared.bus.tables import bus_tables
from shared.db import make_metadata

metadata = make_metadata("analytics")
bus = bus_tables(metadata)

# Daily volumes by one dimension at a time (channel, source, category, region).
daily_volume = Table(
    "daily_volume",
    metadata,
    Column("day", Date, primary_key=True),
    Column("metric", Text, primary_key=True),  # received | registered
    Column("dimension", Text, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("count", BigInteger, nullable=False, server_default=text("0")),
)

# The hotline's own call-backs (12345 回访): the facts behind the three rates (响应率, 解决率,
# 满意率). No personal data: the case id and the answers only.
hotline_callback = Table(
    "hotline_callback",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("visited_at", DateTime(timezone=True), primary_key=True),
    Column("day", Date, nullable=False),
    Column("contacted", Boolean, nullable=False),
    Column("solved", Boolean),
    Column("rating", Text),
)

_TS = DateTime(timezone=True)

case_fact = Table(
    "case_fact",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("tracking_no", Text),
    # the period a case counts in: its receipt date (Asia/Shanghai), else its registration's
    Column("day", Date),
    Column("received_at", _TS),
    Column("registered_at", _TS),
    # dimensions: casework's latest milestone wins over intake (dims_seq), intake's amendments
    # by revision (intake_rev)
    Column("channel", Text),
    Column("source", Text),
    Column("category_code", Text),
    Column("region_code", Text),
    Column("unit_id", Text),  # the handling (lead) unit, else the office
    Column("unit_seq", Integer, nullable=False, server_default=text("0")),
    Column("office_unit_id", Text),  # the petition office (or discipline unit)
    Column("dims_seq", Integer, nullable=False, server_default=text("0")),
    Column("intake_rev", Integer, nullable=False, server_default=text("0")),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("urgency", Text),
    Column("people_count", Integer),
    Column("collective", Boolean),
    Column("prior_count", Integer),  # earlier petitions on the same matter, named at intake
    # earlier petitions of the same person on the same matter found by analytics' repeat check
    # (``case_repeat.earlier_repeats``; None before the check): a repeat (重复信访) when either
    # this or ``prior_count`` is above zero (counters.is_repeat)
    Column("repeat_detected", Integer),
    Column("public_attention", Integer),
    Column("status", Text),
    Column("status_seq", Integer, nullable=False, server_default=text("0")),
    Column("accept_at", _TS),  # the acceptance decision: accepted or refused
    Column("accepted", Boolean),
    Column("accept_on_time", Boolean),
    Column("diverted_at", _TS),
    Column("assigned_at", _TS),
    Column("assign_count", Integer, nullable=False, server_default=text("0")),
    Column("objection_count", Integer, nullable=False, server_default=text("0")),
    Column("signed_at", _TS),
    Column("contacted_at", _TS),  # the first contact that reached the petitioner
    Column("replied_at", _TS),  # the first reply (stage reply)
    Column("reply_on_time", Boolean),
    Column("extension_count", Integer, nullable=False, server_default=text("0")),
    Column("missed_count", Integer, nullable=False, server_default=text("0")),
    Column("handle_missed", Boolean, nullable=False, server_default=text("false")),
    Column("evaluated_at", _TS),
    Column("eval_seq", Integer, nullable=False, server_default=text("0")),  # 0: from notify
    Column("unit_rating", Text),
    Column("office_rating", Text),
    Column("dissatisfied_at", _TS),  # the first 不满意 of either party
    Column("review_requested_at", _TS),
    Column("review_count", Integer, nullable=False, server_default=text("0")),
    Column("closed_at", _TS),
    Column("close_seq", Integer, nullable=False, server_default=text("0")),
    Column("resolved", Boolean),
    Column("withdrawn_at", _TS),
    # the first later petition on the same matter: naming this case as its prior at intake,
    # or linked to it by analytics' repeat check (same person + same matter, ``case_repeat``)
    Column("repeat_at", _TS),
    Column("hl_visited_at", _TS),  # the hotline's latest call-back
    Column("hl_contacted", Boolean),
    Column("hl_solved", Boolean),
    Column("hl_rating", Text),
    # 进京: handed down from the national bureau, as the petition's data say (fold.py)
    Column("national_origin", Boolean, nullable=False, server_default=text("false")),
    # the level of the desk that registered a letter or visit (intake's received_level: city,
    # district …); None for other channels and for events from before intake recorded it
    Column("received_level", Text),
    # 督办: every supervision {supervision_id: {at, due}} and every reply time (ISO, UTC); the
    # three columns after them are derived from both (fold.supervision_state)
    Column("supervised_at", _TS),  # the first supervision
    Column("supervision_count", Integer, nullable=False, server_default=text("0")),
    Column("supervisions", JSONB, nullable=False, server_default=text("'{}'")),
    Column("reply_times", JSONB, nullable=False, server_default=text("'[]'")),
    Column("supervision_on_time", Boolean),  # every supervision replied by its due time
    Column("supervision_late", Boolean),  # a supervision replied after its due time
    Column("supervision_open_due", _TS),  # the earliest due of supervisions not replied yet
    # 领导包案: the first one, and the latest one's leader, unit and deadline (by seq)
    Column("leader_at", _TS),
    Column("leader_count", Integer, nullable=False, server_default=text("0")),
    Column("leader_seq", Integer, nullable=False, server_default=text("0")),
    Column("leader_id", Text),
    Column("leader_name", Text),  # the leader's name as casework gives it (staff, not a party)
    Column("leader_unit_id", Text),
    Column("resolve_by", _TS),
    Index("ix_case_fact_received_at", "received_at"),
    Index("ix_case_fact_day_region", "day", "region_code"),
    # the reads of the as-of counters (metric.service): few rows have either set
    Index("ix_case_fact_supervision_open_due", "supervision_open_due"),
    Index("ix_case_fact_resolve_by", "resolve_by"),
)

# Nullable: an amendment may be folded before its receipt during a rebuild.
case_text = Table(
    "case_text",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("revision", Integer, nullable=False, server_default=text("0")),
    Column("title", Text),  # redacted by intake
    Column("content", Text),  # redacted by intake
    Column("person_keys", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("prior_case_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("region_code", Text),
    Column("category_code", Text),
    Column("source", Text),
    Column("channel", Text),
    Column("received_at", _TS),
    Column("people_count", Integer),
    Column("collective", Boolean),
    Column("accusation", Boolean),
    Column("public_attention", Integer),
    Index("ix_case_text_received_at", "received_at"),
    Index("ix_case_text_person_keys", "person_keys", postgresql_using="gin"),
)


def _rollup(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("period", Date, primary_key=True),  # the day, or the month's first day
        Column("region_code", Text, primary_key=True),
        Column("accusation", Boolean, primary_key=True),
        Column("dim", Text, primary_key=True),  # all | unit | office | category | …
        Column("value", Text, primary_key=True),
        *(Column(c, BigInteger, nullable=False, server_default=text("0")) for c in COUNTERS),
        Index(f"ix_{name}_dim_period", "dim", "period"),
    )


rollup_day = _rollup("rollup_day")
rollup_month = _rollup("rollup_month")
# the same counters with the region cut to its district (counters.district_of): what a read
# over whole districts uses (metric.service), a fraction of the rows of the full-code rollups
rollup_day_district = _rollup("rollup_day_district")
rollup_month_district = _rollup("rollup_month_district")

# Repeat detection (同人 + 同事), one row per received case. ``seq`` orders the rows so a worker
# can catch up with fingerprints written by another process.
case_repeat = Table(
    "case_repeat",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Column("fingerprint", LargeBinary, nullable=False),  # repeats.Fingerprint.to_bytes()
    Column("received_at", _TS),
    Column("region_code", Text),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("first_petition", Boolean, nullable=False),
    Column("earlier_repeats", Integer, nullable=False, server_default=text("0")),
    Column("repeats", JSONB, nullable=False, server_default=text("'[]'")),  # same person
    Column("same_matter", JSONB, nullable=False, server_default=text("'[]'")),  # others
    Column("checked_at", _TS, nullable=False),
)

# The sweep's risk level per case (red / orange / yellow / blue) with its reasons.
case_risk = Table(
    "case_risk",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("level", Text, nullable=False),
    Column("score", Integer, nullable=False),
    Column("reasons", JSONB, nullable=False),  # [{code, points, detail}]
    Column("region_code", Text),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("assessed_on", Date, nullable=False),
    Index("ix_case_risk_level", "level"),
)

# 排查台账: one item per case at yellow or above, with its owner and due date. A later sweep
# updates the level and reasons (found_on stays); an item whose case is no longer at risk
# (closed, or fallen below yellow) is marked cleared.
screening_item = Table(
    "screening_item",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("matter", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("reasons", ARRAY(Text), nullable=False),
    Column("owner_unit", Text, nullable=False),
    Column("region_code", Text),
    Column("accusation", Boolean, nullable=False, server_default=text("false")),
    Column("found_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'open'")),  # open | cleared
    Column("updated_at", _TS, nullable=False),
    Index("ix_screening_item_found_on", "found_on"),
)

# The names of org units as casework's events give them (CaseAssignedV1.lead_unit_name, a
# milestone's unit_name), for tables that show units: the name of the latest event by its
# time (ties: the larger name), so the row does not depend on the order events arrive in.
unit_label = Table(
    "unit_label",
    metadata,
    Column("unit_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("named_at", _TS, nullable=False),
)

# The screening sweeps that ran, one row per local day (``as_of``): what a zero report
# (零报告) needs to claim "no risk item" for a period (screening.service.sweep_coverage).
screening_run = Table(
    "screening_run",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("first_at", _TS, nullable=False),
    Column("last_at", _TS, nullable=False),
    Column("runs", Integer, nullable=False, server_default=text("1")),
    Column("assessed", Integer, nullable=False, server_default=text("0")),
    Column("items", Integer, nullable=False, server_default=text("0")),
)

# the read model a rebuild replaces (the bus tables and the inbox stay)
READ_MODEL: tuple[Table, ...] = (
    case_fact,
    case_text,
    rollup_day,
    rollup_month,
    rollup_day_district,
    rollup_month_district,
    daily_volume,
    hotline_callback,
    unit_label,
)

# Reports rendered on schedule (the 日快报 of each district at 12:05): one row per kind,
# region, period and format, the bytes in the object store (content-addressed). Not part of
# the read model: what was issued stays issued across a rebuild.
generated_report = Table(
    "generated_report",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),  # daily | weekly | monthly
    Column("region_code", Text, nullable=False),  # the district
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("format", Text, nullable=False),  # html | pdf
    Column("created_at", _TS, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("size", Integer, nullable=False),
    UniqueConstraint("kind", "region_code", "period_start", "format"),
)
