"""Quiet hours for SMS (default 21:00–08:00 Asia/Shanghai): a non-urgent SMS due inside them
is held until they end."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from shared.clock import SHANGHAI


def parse_hhmm(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def quiet_until(now: datetime, start: str, end: str) -> datetime | None:
    """When the quiet period containing ``now`` ends, or None outside quiet hours.
    A period may wrap midnight (21:00–08:00) or not (12:00–14:00); start == end is none."""
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if begin == finish:
        return None
    local = now.astimezone(SHANGHAI)
    t = local.time().replace(tzinfo=None)
    wraps = begin > finish
    inside = (t >= begin or t < finish) if wraps else (begin <= t < finish)
    if not inside:
        return None
    release = local.replace(hour=finish.hour, minute=finish.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release
