"""The 受理告知书 draft: what the case already says, and a warning instead of a deadline that has
already passed (a notice must not state one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.casework.notice.kinds import AcceptFields
from services.casework.notice.router import draft_context
from services.casework.org import OrgDirectory, Unit
from shared.identity.principal import Principal

OFFICE = Unit(
    "440306.petition", "宝安区信访局", "petition_office", None, "/440306/", ("440306",), ()
)
HOUSING = Unit(
    "440306.housing", "宝安区住房和城乡建设局", "department", None, "/440306h/", ("440306",), ()
)
ORG = OrgDirectory([OFFICE, HOUSING])
OFFICER = Principal(
    kind="staff",
    subject="s1",
    roles=frozenset({"petition_officer"}),
    org_unit_id=OFFICE.id,
    org_path=OFFICE.path,
    session_id="x",
)


def _row(accepted: datetime, due: datetime | None = None) -> dict[str, Any]:
    return {
        "title": "小区物业乱收费",
        "lead_unit_id": HOUSING.id,
        "accepted_at": accepted,
        "due_at": due,
        "handling_path": "claim",
    }


def test_accept_draft_is_filled_from_the_case_and_issues() -> None:
    accepted = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    handle_due = datetime(2027, 1, 23, 15, 59, 59, tzinfo=UTC)
    context, warnings = draft_context("accept", _row(accepted), OFFICER, ORG, "李四", handle_due)
    assert warnings == []
    assert context["accepted_on"] == "2026-11-24" and context["due_on"] == "2027-01-23"
    assert context["handling_unit"] == HOUSING.name and context["issuer"] == OFFICE.name
    AcceptFields.model_validate(context)  # as drafted, it can be issued


def test_a_deadline_already_past_is_left_for_staff_with_a_warning() -> None:
    """A 12345 order's clock runs from receipt: accepted after it ran out, the handling
    deadline lies before the acceptance date. The draft leaves it out and says why, rather
    than propose a notice that the issue endpoint refuses (``due_before_accept``)."""
    accepted = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    handle_due = datetime(2026, 11, 3, 15, 59, 59, tzinfo=UTC)
    context, warnings = draft_context("accept", _row(accepted), OFFICER, ORG, "李四", handle_due)
    assert "due_on" not in context and context["accepted_on"] == "2026-11-24"
    assert [(w["field"], w["code"]) for w in warnings] == [("context.due_on", "deadline_passed")]
    assert "2026-11-03" in warnings[0]["message"] and " / " in warnings[0]["message"]
    # the same deadline on the same day is no deadline either
    same_day = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    context, warnings = draft_context("accept", _row(accepted), OFFICER, ORG, None, same_day)
    assert "due_on" not in context and warnings[0]["code"] == "deadline_passed"
