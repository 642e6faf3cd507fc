"""E-mail over SMTP (``MINSHENG_SMTP_URL``: ``smtp://[user:password@]host:port``, or
``smtps://`` for TLS). SMTP has no de-duplication: a message re-sent after a crash may
arrive twice, so each carries our message id as its ``Message-ID`` for the reader's client."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from shared.sms import SendResult


class SmtpProvider:
    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("MINSHENG_SMTP_URL must start with smtp:// or smtps://")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    def _send(self, message_id: str, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{message_id}@minsheng>"
        msg.set_content(body, charset="utf-8")
        factory = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with factory(self.host, self.port, timeout=self.timeout) as smtp:
            if self.user and self.password:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)

    async def send(self, *, message_id: str, to: str, subject: str, text: str) -> SendResult:
        try:
            await asyncio.to_thread(self._send, message_id, to, subject, text)
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult(ok=False, permanent=True, error=f"refused: {exc.recipients!r}"[:300])
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(ok=False, error=type(exc).__name__)
        return SendResult(ok=True, provider_ref=f"smtp:{message_id}")
