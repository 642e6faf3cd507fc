"""The injectable clock: business rules ask it for the time, never ``datetime.now()``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_now(self) -> datetime:
        return self.now().astimezone(SHANGHAI)


class FixedClock(Clock):
    """A clock for tests and replays that moves only when told."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


system_clock = Clock()
