"""Reply paragraphs by category for handlers."""

from __future__ import annotations

import pytest

from services.casework.notice.replies import GENERIC, LABELS, TEMPLATES, reply_templates
from services.casework.notice.schemas import ReplyTemplateRead
from shared.api.errors import ApiError
from shared.reference import categories


def test_every_top_level_category_has_a_template() -> None:
    tops = categories.top_level()
    assert tops
    for top in tops:
        got = reply_templates(top.code)
        assert [t.category_code for t in got] == [top.code, None]
        assert got[-1] is GENERIC
        assert got[0].text.strip() and "答复" in got[0].title
    assert set(TEMPLATES) == {t.code for t in tops}


def test_a_deep_category_gets_its_top_level_template() -> None:
    for node in categories.all_categories():
        assert reply_templates(node.code)[0].category_code == node.top_code


def test_placeholders_have_labels_and_fill() -> None:
    for template in [*TEMPLATES.values(), GENERIC]:
        names = [n for n, _ in template.placeholders]
        assert set(names) <= set(LABELS)
        filled = template.fill({n: f"<{n}>" for n in names})
        assert "{" not in filled
        for n in names:
            assert f"<{n}>" in filled
    partial = GENERIC.fill({"facts": "路灯已修复"})
    assert "路灯已修复" in partial and "【处理措施】" in partial


def test_accusation_template_discloses_nothing() -> None:
    accusation = next(c for c in categories.top_level() if c.handling_path == "accusation")
    template = reply_templates(accusation.code)[0]
    assert "facts" not in dict(template.placeholders)
    assert "保密" in template.text


def test_unknown_and_missing_category() -> None:
    with pytest.raises(ApiError) as caught:
        reply_templates("C99")
    assert caught.value.items[0].code == "unknown_category"
    assert reply_templates(None) == [GENERIC]


def test_read_schema() -> None:
    read = ReplyTemplateRead.of(reply_templates("C05")[0])
    assert read.category_code == "C05"
    assert {p.name for p in read.placeholders} >= {"matter", "facts", "inspected_on"}
