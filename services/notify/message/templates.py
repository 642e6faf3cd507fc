"""Message wording: Jinja2 templates in Chinese, one per (kind, channel), versioned so a
delivered message can always be traced to the wording it was sent with (``name@version`` is
stored on every message and inbox item).

Channels render differently: SMS is one short line within ``notify_sms_max_chars`` (free
text — a notice, a reply — is shortened, never the tracking number or a link); the in-app
inbox and e-mail carry the whole text. Changing a wording means bumping its version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, StrictUndefined

CHANNELS = ("sms", "inbox", "email")

_env = Environment(
    undefined=StrictUndefined,
    autoescape=False,  # noqa: S701 - plain text only (SMS, inbox, text/plain e-mail)
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)

_FOOTER = "\n\n此邮件由民声系统自动发送，请勿直接回复。编号 {{ tracking_no }}"


@dataclass(frozen=True)
class Template:
    kind: str
    version: int
    label: str  # 回执 / 回告 / 回音 / 回复 / 回访 …
    title: str  # inbox title and e-mail subject
    sources: dict[str, str]
    shorten: tuple[str, ...] = ()  # free-text fields SMS may cut
    sample: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.kind}@{self.version}"


_SAMPLE = {
    "tracking_no": "MS20261124ABCD1234",
    "track_url": "https://minsheng.example/api/v1/petitions/MS20261124ABCD1234",
    "unit_name": "宝安区城管和综合执法局",
}

TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in [
        Template(
            kind="receipt",
            version=1,
            label="回执",
            title="诉求已登记（编号 {{ tracking_no }}）",
            sources={
                # the wording of the first version of the receipt, kept exactly
                "sms": "【民声】您的诉求已登记，编号{{ tracking_no }}，查询码{{ query_code }}。"
                "请妥善保管，凭编号和查询码可查询办理进展：{{ track_url }}",
                "inbox": "您的诉求已登记。\n编号：{{ tracking_no }}\n查询码：{{ query_code }}\n"
                "凭编号和查询码可随时查询办理进展。",
                "email": "您好：\n\n您的诉求已登记，编号 {{ tracking_no }}，"
                "查询码 {{ query_code }}。\n请妥善保管，凭编号和查询码可查询办理进展："
                "{{ track_url }}" + _FOOTER,
            },
            sample={**_SAMPLE, "query_code": "123456"},
        ),
        Template(
            kind="acceptance",
            version=1,
            label="回告",
            title="受理情况告知（编号 {{ tracking_no }}）",
            sources={
                "sms": "【民声】{{ public_message }}",
                "inbox": "{{ public_message }}",
                "email": "您好：\n\n{{ public_message }}\n\n查询办理进展：{{ track_url }}"
                + _FOOTER,
            },
            shorten=("public_message",),
            sample={
                **_SAMPLE,
                "public_message": "您的信访事项（编号 MS20261124ABCD1234）已受理，"
                "将依法办理并按时答复。",
            },
        ),
        Template(
            kind="progress",
            version=1,
            label="回音",
            title="办理进展（编号 {{ tracking_no }}）",
            sources={
                "sms": "【民声】{{ public_message }}",
                "inbox": "{{ public_message }}",
                "email": "您好：\n\n{{ public_message }}\n\n查询办理进展：{{ track_url }}"
                + _FOOTER,
            },
            shorten=("public_message",),
            sample={
                **_SAMPLE,
                "public_message": "您的信访事项（编号 MS20261124ABCD1234）已转交"
                "宝安区城管和综合执法局办理。",
            },
        ),
        Template(
            kind="reply",
            version=1,
            label="回复",
            title="处理意见（编号 {{ tracking_no }}）",
            sources={
                "sms": "【民声】{{ public_message }}"
                "{% if reply_text %}意见摘要：{{ reply_text }}{% endif %} 详情：{{ track_url }}",
                "inbox": "{{ public_message }}\n\n{{ reply_text }}",
                "email": "您好：\n\n{{ public_message }}\n\n{{ reply_text }}\n\n"
                "查询办理进展：{{ track_url }}" + _FOOTER,
            },
            shorten=("reply_text", "public_message"),
            sample={
                **_SAMPLE,
                "public_message": "您的信访事项（编号 MS20261124ABCD1234）已作出处理意见，请查收。",
                "reply_text": "经核查，反映的油烟扰民问题属实，已责令商户安装油烟净化设施。",
            },
        ),
        Template(
            kind="callback",
            version=1,
            label="回访",
            title="请对办理情况作出评价（编号 {{ tracking_no }}）",
            sources={
                "sms": "【民声】您的信访事项（编号{{ tracking_no }}）已答复。请分别评价承办单位"
                "和信访部门（满意/基本满意/不满意）：{{ evaluation_url }} {{ expires_on }}前有效",
                "inbox": "您的信访事项（编号 {{ tracking_no }}）已答复。请分别对承办单位"
                "{% if unit_name %}（{{ unit_name }}）{% endif %}和信访部门的办理情况作出评价："
                "满意、基本满意或不满意（不满意请说明理由）。\n评价链接：{{ evaluation_url }}\n"
                "{{ expires_on }}前有效，逾期视为超期未评价。",
                "email": "您好：\n\n您的信访事项（编号 {{ tracking_no }}）已答复。请分别对承办单位"
                "{% if unit_name %}（{{ unit_name }}）{% endif %}和信访部门的办理情况作出评价："
                "满意、基本满意或不满意（不满意请说明理由）。\n\n评价链接：{{ evaluation_url }}\n"
                "{{ expires_on }}前有效，逾期视为超期未评价。" + _FOOTER,
            },
            sample={
                **_SAMPLE,
                "evaluation_url": "https://minsheng.example/api/v1/notify/evaluations/link/x",
                "expires_on": "2026年12月9日",
            },
        ),
        Template(
            kind="otp",
            version=1,
            label="验证码",
            title="登录验证码",
            sources={
                "sms": "【民声】您的登录验证码为{{ code }}，{{ minutes }}分钟内有效。请勿告诉他人。"
            },
            sample={"code": "123456", "minutes": 5},
        ),
    ]
}

# Staff alerts (the staff inbox), one wording per alert kind.
ALERTS: dict[str, str] = {
    "assigned": "新交办：{{ tracking_no }}{% if unit_name %}（{{ unit_name }}）{% endif %}"
    "{% if due_on %}，办理期限 {{ due_on }}{% endif %}，请及时签收。",
    "deadline_approaching": "即将到期：{{ tracking_no }} 的{{ clock_label }}期限 {{ due_on }}。",
    "deadline_missed": "已超期：{{ tracking_no }} 的{{ clock_label }}期限 {{ due_on }} 已过。",
    "approval": "待审批：{{ tracking_no }} 的{{ approval_label }}申请等待您审批。",
}
ALERT_VERSION = 1

CLOCK_LABELS = {
    "register": "登记交办",
    "accept": "受理",
    "object": "异议",
    "sign": "签收",
    "handle": "办理",
    "review": "复查",
    "reexam": "复核",
}
APPROVAL_LABELS = {
    "refuse": "不予受理",
    "divert": "导出",
    "extend": "延期",
    "reply": "答复",
    "dispute": "争议",
}


class UnknownTemplate(KeyError):
    pass


def _render(source: str, context: dict[str, Any]) -> str:
    return _env.from_string(source).render(**context).strip()


def render(kind: str, channel: str, context: dict[str, Any], *, sms_max: int = 300) -> str:
    """The message text of ``kind`` for ``channel``. SMS texts longer than ``sms_max`` have
    their free-text fields shortened (with "…"), never the number, code or link."""
    template = TEMPLATES.get(kind)
    if template is None or channel not in template.sources:
        raise UnknownTemplate(f"{kind}/{channel}")
    source = template.sources[channel]
    text = _render(source, context)
    if channel != "sms" or len(text) <= sms_max:
        return text
    ctx = dict(context)
    for name in template.shorten:
        value = str(ctx.get(name) or "")
        over = len(text) - sms_max
        if over <= 0:
            break
        keep = max(0, len(value) - over - 1)
        ctx[name] = value[:keep] + "…"
        text = _render(source, ctx)
    return text if len(text) <= sms_max else text[: sms_max - 1] + "…"


def title(kind: str, context: dict[str, Any]) -> str:
    return _render(TEMPLATES[kind].title, context)


def alert_text(kind: str, context: dict[str, Any]) -> str:
    return _render(ALERTS[kind], context)


def receipt_sms(*, tracking_no: str, query_code: str, track_url: str) -> str:
    return render(
        "receipt",
        "sms",
        {"tracking_no": tracking_no, "query_code": query_code, "track_url": track_url},
    )


def otp_sms(*, code: str, minutes: int) -> str:
    return render("otp", "sms", {"code": code, "minutes": minutes})


def preview(kind: str, channel: str, overrides: dict[str, Any], *, sms_max: int) -> dict[str, Any]:
    """What staff see before a wording goes out: the sample context with their overrides."""
    template = TEMPLATES.get(kind)
    if template is None:
        raise UnknownTemplate(kind)
    context = {**template.sample, **overrides}
    text = render(kind, channel, context, sms_max=sms_max)
    return {
        "template": template.ref,
        "kind": kind,
        "label": template.label,
        "channel": channel,
        "title": title(kind, context) if "tracking_no" in context else template.label,
        "text": text,
        "length": len(text),
        "sms_segments": -(-len(text) // 67) if channel == "sms" and len(text) > 70 else 1,
    }
