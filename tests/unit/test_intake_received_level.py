"""The level of the desk that received a petition (``received_level``): derived from the
registrar's unit's regions, carried to ``intake.petition.received``, and never taken from a
partner's record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.intake.hotline.schemas import WorkOrder
from services.intake.hotline.service import to_normalized
from services.intake.petition.normalized import Channel, NormalizedPetition, Source
from services.intake.registrar.service import desk_level
from shared.events.intake import PetitionReceivedV1


@pytest.mark.parametrize(
    ("codes", "level"),
    [
        (["440300"], "city"),  # 深圳市信访局
        (["440306"], "district"),  # 宝安区信访局
        (["440306001"], "street"),
        (["440306001001"], "community"),
        (["440000"], "province"),
        (["440306", "440300"], "city"),  # the highest of the unit's regions
        (["440306001", "440304"], "district"),
        (["999999", "440306"], "district"),  # unknown codes are skipped
        (["999999"], None),
        ([], None),
    ],
)
def test_desk_level(codes: list[str], level: str | None) -> None:
    assert desk_level(codes) == level


def test_only_the_registrar_path_sets_it() -> None:
    petition = NormalizedPetition(
        source=Source.CITIZEN,
        channel=Channel.WEB,
        title="t",
        content="c",
        region_code="440306",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert petition.received_level is None
    with pytest.raises(ValueError, match="received_level"):
        NormalizedPetition.model_validate({**petition.model_dump(), "received_level": "capital"})
    # a partner's extra field is ignored, not taken as the level (kept only in the raw record)
    raw: dict[str, Any] = {
        "order_no": "GD1",
        "revision": 1,
        "received_at": "2026-11-22T09:15:00+08:00",
        "channel": "phone",
        "anonymous": True,
        "title": "油烟扰民",
        "content": "小区门口餐饮店油烟很大。",
        "region_code": "440306",
        "address": "宝安区西乡街道",
        "urgency": "normal",
        "received_level": "city",
    }
    assert to_normalized(WorkOrder.model_validate(raw), raw).received_level is None


def test_the_event_field_is_optional() -> None:
    """Events from before the field existed still parse (received_level None)."""
    old = {
        "case_id": "c",
        "tracking_no": "T",
        "source": "visit",
        "channel": "visit",
        "title": "t",
        "content": "c",
        "region_code": "440306",
        "received_at": "2026-01-01T00:00:00+00:00",
    }
    assert PetitionReceivedV1.model_validate(old).received_level is None
    assert PetitionReceivedV1.model_validate({**old, "received_level": "city"}).received_level == (
        "city"
    )
