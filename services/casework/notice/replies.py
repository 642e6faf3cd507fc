"""Reply paragraphs handlers start from (答复模板), one per top-level category of the
category tree (``shared.reference.categories``) and a generic one.

A template is a Chinese paragraph with ``{placeholders}`` for what only the handler knows
(the facts found, the measures taken …); every placeholder has a Chinese label. The handler
edits the result freely before it goes into a 信访处理意见书: these are starting points,
not decisions. The 纪检监察 template says nothing of the facts on purpose: an accusation's
handling is never disclosed (条例 Art. 30).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from shared.api.errors import ApiError
from shared.reference import categories

LABELS: dict[str, str] = {
    "matter": "反映事项",
    "facts": "查明事实",
    "measures": "处理措施",
    "unit": "有关单位",
    "contact": "联系方式",
    "basis": "法律法规政策依据",
    "inspected_on": "现场检查日期",
}


@dataclass(frozen=True)
class ReplyTemplate:
    code: str
    category_code: str | None  # the top-level category; None for the generic template
    title: str
    text: str

    @property
    def placeholders(self) -> tuple[tuple[str, str], ...]:
        """(name, 中文 label) of each placeholder, in order of first appearance."""
        seen: dict[str, str] = {}
        for _, name, _, _ in string.Formatter().parse(self.text):
            if name and name not in seen:
                seen[name] = LABELS[name]
        return tuple(seen.items())

    def fill(self, values: Mapping[str, str]) -> str:
        """The paragraph with the given values; a placeholder not given stays as 【label】 so
        the handler sees what is left to write."""
        names = dict(self.placeholders)
        return self.text.format_map(
            {n: values.get(n, f"【{label}】") for n, label in names.items()}
        )


GENERIC = ReplyTemplate(
    "generic",
    None,
    "通用答复",
    "您反映的{matter}问题已收悉。经调查核实，{facts}。根据{basis}，{measures}。"
    "感谢您对我们工作的理解和支持。如有疑问，请联系{contact}。",
)

_BY_TOP: dict[str, tuple[str, str]] = {
    "C01": (
        "城乡建设类答复",
        "您反映的{matter}问题，我单位高度重视，已会同{unit}进行现场核查。经查，{facts}。"
        "针对上述情况，我单位已{measures}，并将加强对相关项目和物业服务的监督管理。"
        "如有疑问，请联系{contact}。",
    ),
    "C02": (
        "劳动和社会保障类答复",
        "您反映的{matter}问题，我局已进行调查核实。经查，{facts}。根据{basis}，{measures}。"
        "如对劳动人事争议仍有异议，您可以依法向劳动人事争议仲裁委员会申请仲裁。"
        "联系方式：{contact}。",
    ),
    "C03": (
        "教育文体类答复",
        "您反映的{matter}问题，我局已责成{unit}调查核实。经查，{facts}。我局已{measures}，"
        "并将进一步规范相关管理。如有疑问，请联系{contact}。",
    ),
    "C04": (
        "商贸旅游类答复",
        "您反映的{matter}问题，我局已调查核实。经查，{facts}。我局已{measures}。"
        "涉及消费纠纷的，您也可以通过12315平台依法维护自身权益。如有疑问，请联系{contact}。",
    ),
    "C05": (
        "环境保护类答复",
        "您反映的{matter}问题，我局执法人员于{inspected_on}到现场检查。经查，{facts}。"
        "针对检查发现的问题，我局已{measures}，并将加强跟踪监测，巩固整改效果。"
        "如有疑问，请联系{contact}。",
    ),
    "C06": (
        "卫生健康类答复",
        "您反映的{matter}问题，我委已调查核实。经查，{facts}。我委已{measures}。"
        "涉及医疗纠纷的，您可以申请医疗纠纷人民调解，或者依法提起诉讼。如有疑问，请联系{contact}。",
    ),
    "C07": (
        "交通运输类答复",
        "您反映的{matter}问题，我局已会同{unit}调查核实。经查，{facts}。我局已{measures}，"
        "并将持续加强行业监管。如有疑问，请联系{contact}。",
    ),
    "C08": (
        "公安政法类答复",
        "您反映的{matter}问题，经核查，{facts}。{measures}。"
        "依法应当通过诉讼、仲裁、行政复议等法定途径解决的事项，请您依照有关法律规定的程序"
        "向有关机关提出。如有疑问，请联系{contact}。",
    ),
    "C09": (
        "纪检监察类答复",
        "您反映的问题已收悉。依照有关规定，该检举控告事项已移送{unit}依规依纪依法处理。"
        "我们将对您的个人信息和反映的内容严格保密，处理情况将按照规定向您反馈。",
    ),
    "C10": (
        "农村农业类答复",
        "您反映的{matter}问题，我局已会同{unit}调查核实。经查，{facts}。根据{basis}，"
        "{measures}。如有疑问，请联系{contact}。",
    ),
    "C11": (
        "民政类答复",
        "您反映的{matter}问题，我局已调查核实。经查，{facts}。根据{basis}，{measures}。"
        "如符合相关救助条件，请按照指引提出申请。如有疑问，请联系{contact}。",
    ),
    "C12": (
        "市场监管类答复",
        "您反映的{matter}问题，我局已调查核实。经查，{facts}。我局已依法{measures}。"
        "涉及消费者权益争议的，我局可以依法组织调解。如有疑问，请联系{contact}。",
    ),
    "C13": (
        "国土资源类答复",
        "您反映的{matter}问题，我局已调查核实。经查，{facts}。根据{basis}，{measures}。"
        "如有疑问，请联系{contact}。",
    ),
    "C14": (
        "党政综合类答复",
        "您反映的{matter}问题，经了解，{facts}。{measures}。"
        "感谢您对政府工作的关心和支持。如有疑问，请联系{contact}。",
    ),
}

TEMPLATES: dict[str, ReplyTemplate] = {
    code: ReplyTemplate(f"{code}.reply", code, title, text)
    for code, (title, text) in _BY_TOP.items()
}


def reply_templates(category_code: str | None) -> list[ReplyTemplate]:
    """The template of the category's top-level ancestor, then the generic one; only the
    generic one for a case not yet classified. 422 ``unknown_category`` for an unknown code."""
    if category_code is None:
        return [GENERIC]
    category = categories.get(category_code)
    if category is None:
        raise ApiError(422, "unknown_category", "分类不存在", "unknown category", "category_code")
    own = TEMPLATES.get(category.top_code)
    return [own, GENERIC] if own is not None else [GENERIC]
