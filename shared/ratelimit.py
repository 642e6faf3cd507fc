"""Rate limits per IP and per phone (fixed windows in Redis). Losing Redis only forgets the
counts; when Redis is unreachable the limit is not enforced rather than refusing citizens."""

from __future__ import annotations

from typing import Any

from shared.api.errors import ApiError
from shared.logging import get_logger

log = get_logger(__name__)


async def check(
    redis: Any, *, scope: str, key: str, limit: int, window_seconds: int, field: str | None = None
) -> None:
    """Count one hit; raise 429 ``rate_limited`` with ``Retry-After`` past ``limit``."""
    name = f"minsheng:rate:{scope}:{key}"
    try:
        async with redis.pipeline(transaction=True) as pipe:
            # SET NX EX starts the window (EXPIRE NX needs Redis 7; the embedded one is 6.2)
            pipe.set(name, 0, ex=window_seconds, nx=True)
            pipe.incr(name)
            pipe.ttl(name)
            _, count, ttl = await pipe.execute()
    except Exception as exc:  # Redis down: do not refuse citizens for it
        log.warning("ratelimit.unavailable", scope=scope, error=type(exc).__name__)
        return
    if int(count) > limit:
        retry = max(1, int(ttl) if int(ttl) > 0 else window_seconds)
        raise ApiError(
            429,
            "rate_limited",
            "请求过于频繁，请稍后再试",
            "too many requests; try again later",
            field=field,
            headers={"Retry-After": str(retry)},
        )
