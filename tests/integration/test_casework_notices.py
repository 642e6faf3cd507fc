"""Notices through the staff API: a draft prefilled from the case, issued to DOCX and PDF,
downloaded, its delivery recorded once; on the case's timeline; 404 outside scope. And the
petitioner's contact details in the case detail, masked by role, never the query code."""

from __future__ import annotations

import io

import pytest
from docx import Document
from pypdf import PdfReader

from shared.db import Database
from shared.settings import Settings
from tests.casework_world import BASE, casework_world

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONTACT = {"name": "李四", "phone": "13912345678", "query_code": "654321"}


async def test_accept_notice_from_draft_to_delivery(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w, casework_world(settings, db) as other:
        case_id = await w.register(contact=CONTACT)
        await w.act("officer", case_id, "accept", {"handling_path": "claim"})
        r = await w.client.get(f"{BASE}/cases/{case_id}/notices/draft",
                               params={"kind": "accept"}, headers=w.h("officer"))  # fmt: skip
        assert r.status_code == 200, r.text
        draft = r.json()["context"]
        assert r.json()["warnings"] == []  # nothing it could not fill in
        assert draft["petitioner"] == "李四" and draft["matter"] == "小区物业乱收费"
        assert draft["handling_path"] == "claim" and draft["accepted_on"] and draft["due_on"]
        draft["contact"] = "0755-00000000"
        r = await w.client.post(f"{BASE}/cases/{case_id}/notices",
                                json={"kind": "accept", "context": draft}, headers=w.h("officer"))  # fmt: skip
        assert r.status_code == 201, r.text
        notice = r.json()
        assert notice["title"].endswith("受理告知书") and "〔" in notice["number"]
        pdf = await w.client.get(f"{BASE}/notices/{notice['id']}.pdf", headers=w.h("officer"))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "受理告知书" in text and notice["number"] in text
        docx = await w.client.get(f"{BASE}/notices/{notice['id']}.docx", headers=w.h("officer"))
        body = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
        assert "李四" in body
        # outside the jurisdiction: the notice does not exist
        for url in (f"{BASE}/notices/{notice['id']}.pdf", f"{BASE}/cases/{case_id}/notices"):
            assert (await w.client.get(url, headers=other.h("officer"))).status_code == 404
        delivery = {"method": "post", "outcome": "sent", "at": "2030-01-01T10:00:00+08:00"}
        r = await w.client.post(f"{BASE}/notices/{notice['id']}/delivery", json=delivery,
                                headers=w.h("registrar"))  # fmt: skip
        assert r.status_code == 200 and r.json()["delivery"]["method"] == "post"
        r = await w.client.post(f"{BASE}/notices/{notice['id']}/delivery",
                                json={**delivery, "outcome": "signed"}, headers=w.h("registrar"))  # fmt: skip
        assert r.status_code == 409
        listed = (
            await w.client.get(f"{BASE}/cases/{case_id}/notices", headers=w.h("officer"))
        ).json()
        assert [n["id"] for n in listed["items"]] == [notice["id"]]
        detail = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))).json()
        assert any(t["action"] == "notice" for t in detail["timeline"])
        # a missing field is named
        r = await w.client.post(f"{BASE}/cases/{case_id}/notices",
                                json={"kind": "accept", "context": {"issuer": "x"}},
                                headers=w.h("officer"))  # fmt: skip
        assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("context.")
        # an analyst may read but not issue
        r = await w.client.post(f"{BASE}/cases/{case_id}/notices",
                                json={"kind": "accept", "context": draft}, headers=w.h("analyst"))  # fmt: skip
        assert r.status_code == 403


async def test_petitioner_contact_is_masked_by_role(settings: Settings, db: Database) -> None:
    async with casework_world(settings, db) as w:
        case_id = await w.register(contact=CONTACT)
        shown = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("officer"))).json()
        assert shown["petitioner"] == {"name": "李四", "phone": "13912345678", "masked": False}
        masked = (await w.client.get(f"{BASE}/cases/{case_id}", headers=w.h("analyst"))).json()
        assert masked["petitioner"]["masked"] is True
        assert "13912345678" not in str(masked) and "李四" not in str(masked)
        for body in (shown, masked):
            assert "654321" not in str(body)  # the query code never reaches staff
