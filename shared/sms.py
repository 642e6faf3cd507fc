"""The SMS provider interface and its HTTP gateway implementation.

Gateway contract (ours; the simulator in ``minsheng.simulators.sms_gateway`` enforces it):
``POST {MINSHENG_SMS_GATEWAY_URL}/v1/messages`` with
``{"message_id": "<uuid>", "phone": "13800138000", "text": "…", "urgent": false}``.
The gateway de-duplicates on ``message_id``: a message re-sent after a crash is delivered once.
Answers: ``202 {"message_id", "status": "accepted" | "duplicate", "provider_ref"}``;
``4xx`` — refused for good (e.g. invalid number); ``5xx`` or no answer — try again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False  # True when retrying cannot help
    provider_ref: str | None = None
    error: str | None = None


class SmsProvider(Protocol):
    async def send(self, *, message_id: str, phone: str, text: str, urgent: bool) -> SendResult: ...


class HttpSmsGateway:
    def __init__(
        self, base_url: str, client: httpx.AsyncClient | None = None, timeout: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.AsyncClient(timeout=timeout)

    async def send(self, *, message_id: str, phone: str, text: str, urgent: bool) -> SendResult:
        try:
            response = await self.client.post(
                f"{self.base_url}/v1/messages",
                json={"message_id": message_id, "phone": phone, "text": text, "urgent": urgent},
            )
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=type(exc).__name__)
        if response.status_code in (200, 201, 202):
            data = response.json()
            return SendResult(ok=True, provider_ref=str(data.get("provider_ref") or ""))
        permanent = 400 <= response.status_code < 500 and response.status_code != 429
        return SendResult(ok=False, permanent=permanent, error=f"HTTP {response.status_code}")

    async def aclose(self) -> None:
        await self.client.aclose()
