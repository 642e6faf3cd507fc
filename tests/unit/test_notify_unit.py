"""Notify's pure rules: quiet hours, SMS length, the evaluation link, backoff, the §2/§3
mappings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.callback import mapping
from services.notify.evaluation import link
from services.notify.message import templates
from services.notify.message.quiet import quiet_until
from services.notify.message.service import backoff
from shared.clock import SHANGHAI
from shared.events import casework as ev

AT = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("hour", "minute", "release"),
    [
        (21, 0, datetime(2026, 11, 25, 8, 0, tzinfo=SHANGHAI)),
        (23, 59, datetime(2026, 11, 25, 8, 0, tzinfo=SHANGHAI)),
        (0, 30, datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)),
        (7, 59, datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)),
        (8, 0, None),
        (20, 59, None),
        (12, 0, None),
    ],
)
def test_quiet_hours_wrap_midnight(hour: int, minute: int, release: datetime | None) -> None:
    now = datetime(2026, 11, 24, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)
    assert quiet_until(now, "21:00", "08:00") == release


def test_quiet_hours_that_do_not_wrap_and_none() -> None:
    noon = datetime(2026, 11, 24, 12, 30, tzinfo=SHANGHAI)
    assert quiet_until(noon, "12:00", "14:00") == noon.replace(hour=14, minute=0)
    assert quiet_until(noon, "00:00", "00:00") is None


def test_sms_is_shortened_but_keeps_the_number_and_link() -> None:
    ctx = {
        "tracking_no": "MS2026ABC",
        "public_message": "已作出处理意见。",
        "reply_text": "很长的意见" * 200,
        "track_url": "https://x.example/api/v1/petitions/MS2026ABC",
    }
    sms = templates.render("reply", "sms", ctx, sms_max=200)
    assert len(sms) <= 200 and "…" in sms
    assert sms.endswith(ctx["track_url"]) and "已作出处理意见" in sms
    assert templates.render("reply", "inbox", ctx).count("很长的意见") == 200


def test_receipt_wording_is_kept() -> None:
    text = templates.receipt_sms(tracking_no="MS1", query_code="123456", track_url="u")
    assert (
        text
        == "【民声】您的诉求已登记，编号MS1，查询码123456。请妥善保管，凭编号和查询码可查询办理进展：u"
    )


def test_every_template_renders_its_sample_on_every_channel() -> None:
    for kind, tpl in templates.TEMPLATES.items():
        for channel in tpl.sources:
            preview = templates.preview(kind, channel, {}, sms_max=300)
            assert preview["text"] and preview["template"] == f"{kind}@{tpl.version}"
    with pytest.raises(templates.UnknownTemplate):
        templates.render("otp", "email", {})


def test_evaluation_link_is_signed_and_expires() -> None:
    case_id = uuid.uuid4()
    expires = datetime(2026, 12, 9, tzinfo=UTC)
    token = link.make_token("secret", case_id, expires)
    assert link.read_token("secret", token, expires - timedelta(seconds=1)) == link.LinkClaim(
        case_id, expires
    )
    assert link.read_token("secret", token, expires) is None  # expired
    assert link.read_token("other", token, expires - timedelta(days=1)) is None
    hex_, exp, mac = token.split(".")
    assert link.read_token("secret", f"{hex_}.{int(exp) + 86400}.{mac}", AT) is None
    assert link.read_token("secret", "nonsense", AT) is None


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert backoff(1, 600).total_seconds() <= 4
    assert all(300 <= backoff(30, 600).total_seconds() <= 600 for _ in range(50))


BASE = {
    "case_id": str(uuid.uuid4()),
    "tracking_no": "MS1",
    "status": "x",
    "occurred_at": AT,
    "actor": "a",
    "unit_name": "某局",
    "public_message": "告知",
}


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (ev.CaseAcceptedV1(**BASE, handling_path="g", on_time=True), "accepted"),
        (ev.CaseRefusedV1(**BASE, kind="not_accepted", reason="r", on_time=True), "rejected"),
        (ev.CaseDivertedV1(**BASE, route="litigation", reason="r"), "rejected"),
        (ev.CaseAssignedV1(**BASE, mode="assign", lead_unit_id="u"), "transferred"),
        (ev.CaseRepliedV1(**BASE, stage="reply", decisions=[], on_time=True), "replied"),
        (ev.CaseClosedV1(**BASE, resolved=True), "closed"),
        (ev.CaseExtendedV1(**BASE, clock="handle", days=30, reason="r"), None),
        (ev.CaseReviewRequestedV1(**BASE, stage="review", review_unit_id="u"), None),
        (ev.CaseObjectedV1(**BASE, reason="r"), None),
        (ev.CaseRepliedV1(**BASE, stage="review", decisions=[], on_time=True), None),
    ],
)
def test_hotline_status_mapping(event: ev._CaseMilestone, status: str | None) -> None:
    body = mapping.hotline_status(event, first_contact=False, lead_unit_name=None)
    assert (body or {}).get("status") == status
    if body:
        assert body["occurred_at"] == "2026-11-24T10:00:00+08:00"


def test_in_progress_only_for_the_first_contact() -> None:
    contact = ev.CaseContactedV1(**BASE, method="phone", reached=True, attempts=1)
    assert mapping.hotline_status(contact, first_contact=True, lead_unit_name=None) == {
        "status": "in_progress",
        "occurred_at": "2026-11-24T10:00:00+08:00",
        "department": "某局",
        "message": "告知",
        "reply": None,
    }
    assert mapping.hotline_status(contact, first_contact=False, lead_unit_name=None) is None
    missed = ev.CaseContactedV1(**BASE, method="phone", reached=False, attempts=1)
    assert not mapping.is_first_contact_candidate(missed)


def test_province_extended_carries_deadline_and_reason() -> None:
    event = ev.CaseExtendedV1(
        **{**BASE, "due_at": datetime(2026, 12, 22, 15, 59, 59, tzinfo=UTC)},
        clock="handle",
        days=30,
        reason="情况复杂",
    )
    body = mapping.exchange_result(event)
    assert body is not None and body["milestone"] == "extended"
    assert body["deadline"] == "2026-12-22T23:59:59+08:00" and body["reason"] == "情况复杂"
