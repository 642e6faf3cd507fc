"""Message texts. Versioned so a delivered message can always be traced to its wording."""

from __future__ import annotations

TEMPLATE_VERSION = "2026-11-1"


def receipt_sms(*, tracking_no: str, query_code: str, track_url: str) -> str:
    return (
        f"【民声】您的诉求已登记，编号{tracking_no}，查询码{query_code}。"
        f"请妥善保管，凭编号和查询码可查询办理进展：{track_url}"
    )


def otp_sms(*, code: str, minutes: int) -> str:
    return f"【民声】您的登录验证码为{code}，{minutes}分钟内有效。请勿告诉他人。"
