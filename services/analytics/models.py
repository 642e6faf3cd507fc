"""Tables of the analytics schema: its own read model, built only from events and holding no
personal data."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Table, Text, text

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
