"""Partner callbacks (integrations §2, §3): queued by the event handlers in the transaction
that records the event, delivered by a loop in the notify worker.

* Signed afresh on every attempt (§0) with the partner's first key.
* Head of line per stream (one hotline order, one provincial case): a stream's next callback
  waits until the one before it got a 2xx.
* Retried with exponential backoff and jitter capped at ``notify_backoff_cap_seconds``
  (10 minutes) and never dropped. After ``notify_callback_alert_hours`` (24 h) of failure an
  operator alert is raised once — a log line, the dead-letter metric and a row that
  ``minsheng deliveries failed`` lists — and the retries go on.
* When a partner answers again, its other waiting streams are tried at once.
* The partner de-duplicates on ``event_id``, so a callback re-sent after a crash is harmless.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.callback import mapping
from services.notify.callback import repository as repo
from services.notify.contact.repository import Contact
from services.notify.message.service import backoff
from shared.bus import BusContext
from shared.events.envelope import EventPayload
from shared.logging import get_logger
from shared.settings import Settings
from shared.signing import SignedClient

log = get_logger(__name__)

CLAIM_BATCH = 200
LEASE_SECONDS = 30.0
HTTP_TIMEOUT = 10.0


async def queue_for_event(
    db: AsyncConnection,
    *,
    event_id: uuid.UUID,
    event: EventPayload,
    contact: Contact,
) -> int:
    """The callbacks one event makes (none, hotline, provincial or both)."""
    added = 0
    if contact.order_no:
        first = False
        if mapping.is_first_contact_candidate(event) and not contact.in_progress_sent:
            from services.notify.contact.repository import mark_in_progress

            first = await mark_in_progress(db, contact.case_id)
        body = mapping.hotline_status(
            event, first_contact=first, lead_unit_name=contact.lead_unit_name
        )
        if body is not None:
            added += await repo.add(
                db,
                partner=mapping.HOTLINE,
                stream=contact.order_no,
                event_id=event_id,
                case_id=contact.case_id,
                body={"event_id": str(event_id), "order_no": contact.order_no, **body},
            )
    if contact.province_case_no:
        result = mapping.exchange_result(event, rated_unit_name=contact.lead_unit_name)
        if result is not None:
            added += await repo.add(
                db,
                partner=mapping.EXCHANGE,
                stream=contact.province_case_no,
                event_id=event_id,
                case_id=contact.case_id,
                body={
                    "event_id": str(event_id),
                    "province_case_no": contact.province_case_no,
                    **result,
                },
            )
    return added


def partner_urls(settings: Settings) -> dict[str, str]:
    """Where each partner's callbacks go; a partner without a URL keeps its callbacks
    pending until one is configured."""
    urls: dict[str, str] = {}
    if settings.hotline_callback_url:
        urls[mapping.HOTLINE] = settings.hotline_callback_url
    if settings.province_exchange_url:
        urls[mapping.EXCHANGE] = settings.province_exchange_url.rstrip("/") + "/results"
    return urls


class CallbackSender:
    def __init__(self, ctx: BusContext, http: httpx.AsyncClient | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.http = http or httpx.AsyncClient(timeout=HTTP_TIMEOUT)
        self.clients = {
            p: SignedClient.from_settings(self.http, self.settings, partner=p, clock=ctx.clock)  # type: ignore[arg-type]
            for p in (mapping.HOTLINE, mapping.EXCHANGE)
        }
        self.urls = partner_urls(self.settings)
        self.gate = asyncio.Semaphore(self.settings.notify_callback_concurrency)
        self.last_sent = 0

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _post(self, row: Any) -> tuple[bool, str]:
        async with self.gate:
            try:
                response = await self.clients[row.partner].post_json(
                    self.urls[row.partner], row.body
                )
            except httpx.HTTPError as exc:
                return False, type(exc).__name__
        if 200 <= response.status_code < 300:
            return True, ""
        return False, f"HTTP {response.status_code}"

    async def send_due(self) -> int:
        """One pass; returns how many callbacks were attempted."""
        if not self.urls:
            return 0
        async with self.ctx.db.transaction("notify") as db:
            rows = await repo.claim_heads(
                db, partners=sorted(self.urls), limit=CLAIM_BATCH, lease_seconds=LEASE_SECONDS
            )
        if not rows:
            self.last_sent = 0
            return 0
        outcomes = await asyncio.gather(*(self._post(r) for r in rows))
        now = self.ctx.clock.now()
        alert_after = timedelta(hours=self.settings.notify_callback_alert_hours)
        cap = self.settings.notify_backoff_cap_seconds
        sent = [r.id for r, (ok, _) in zip(rows, outcomes, strict=True) if ok]
        self.last_sent = len(sent)
        answered = {r.partner for r, (ok, _) in zip(rows, outcomes, strict=True) if ok}
        async with self.ctx.db.transaction("notify") as db:
            await repo.mark_sent(db, sent)
            await repo.resolve_alerts(
                db, [r.id for r, (ok, _) in zip(rows, outcomes, strict=True) if ok and r.alerted_at]
            )
            for row, (ok, error) in zip(rows, outcomes, strict=True):
                if ok:
                    continue
                await repo.mark_retry(
                    db,
                    callback_id=row.id,
                    error=error,
                    at=now + backoff(row.attempts, cap),
                    failed_since=now,
                )
                since = row.first_failed_at or now
                if row.alerted_at is None and now - since >= alert_after:
                    CALLBACK_ALERTS.labels(row.partner).inc()
                    log.error(
                        "notify.callback.failing",
                        partner=row.partner,
                        stream=row.stream,
                        callback_id=row.id,
                        failing_since=since.isoformat(),
                        attempts=row.attempts,
                        error=error,
                    )
                    await repo.raise_alert(db, row=row, error=error, at=now)
            failing = {r.partner for r, (ok, _) in zip(rows, outcomes, strict=True) if not ok}
            for partner in answered - failing:  # partly failing: let the backoff work
                await repo.hurry_partner(db, partner)
        return len(rows)


def _alerts_counter() -> Any:
    from prometheus_client import Counter

    return Counter(
        "minsheng_notify_callback_alerts_total",
        "Partner callbacks failing longer than the alert threshold",
        ["partner"],
    )


CALLBACK_ALERTS = _alerts_counter()


async def run_callbacks(ctx: BusContext) -> None:
    """Background loop of the notify worker: partner callbacks."""
    from shared.db.listen import Wakeup

    sender = CallbackSender(ctx)
    if not sender.urls:
        log.warning(
            "notify.callback.no_partner_urls",
            hint="set MINSHENG_HOTLINE_CALLBACK_URL / MINSHENG_PROVINCE_EXCHANGE_URL",
        )
    wake = Wakeup(ctx.settings, "notify", repo.WAKE_CHANNEL)
    try:
        while True:
            async with ctx.db.transaction("notify") as db:
                await repo.requeue_replayed(db)
            n = await sender.send_due()
            if n < CLAIM_BATCH and not sender.last_sent:
                await wake.wait(1.0)  # nothing got through: wait for new work or a retry
    finally:
        await wake.close()
        await sender.aclose()
