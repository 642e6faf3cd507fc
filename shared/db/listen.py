"""Wake-ups from PostgreSQL ``NOTIFY``, with a timer as backup: a lost notification (or a
lost connection) costs at most one poll interval, never an event."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from shared.settings import Settings, to_plain_url


class Wakeup:
    def __init__(self, settings: Settings, schema: str, channel: str) -> None:
        self.url = to_plain_url(settings.database_url_for(schema))
        self.channel = channel
        self._event = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    async def _ensure(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            return
        with contextlib.suppress(Exception):
            conn = await asyncpg.connect(self.url, timeout=5)
            await conn.add_listener(self.channel, self._on_notify)
            self._conn = conn

    def _on_notify(self, *_: Any) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        await self._ensure()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)
