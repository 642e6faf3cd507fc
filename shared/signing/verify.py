"""Verifying an inbound signed request (integrations §0) and remembering its nonce.

Owns the receiver's order of checks and the replay store:

1. the four headers are present and well formed, else ``missing_signature`` on the first
   header at fault (in the order Key-Id, Timestamp, Nonce, Signature). A Timestamp that is
   not ASCII decimal digits or a Nonce that is not 1–64 characters of ``[A-Za-z0-9_-]`` is
   *malformed*, which we report as ``missing_signature`` on that header: such a request
   carries no signature the contract defines, and it is not worth an HMAC. A header given
   twice is malformed too. A present, non-empty Signature of any shape is compared (a
   non-hex one is simply ``bad_signature``);
2. the key id is configured, else ``unknown_key``;
3. the timestamp is at most ``window_seconds`` (300) from our clock, either way, else
   ``stale_timestamp``;
4. the signature matches, compared in constant time, else ``bad_signature``;
5. only then the ``(partner, key_id, nonce)`` is recorded in ``<schema>.partner_nonce``;
   one accepted within the last ``replay_seconds`` (600) is ``replayed_nonce``.

Every refusal is a ``SignatureError``: 401 with exactly one error item naming the header.

Transactions: ``verify_request`` writes the nonce on the caller's connection, so **run it in
the same transaction as the request's effect**. Then a refused request changes nothing, an
accepted one commits its nonce together with its effect, and two copies of one request
racing each other serialise on the nonce's row: the second waits for the first to commit
and is then refused as a replay (or proceeds, if the first rolled back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import MetaData, Table, TextClause, delete, text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.api.errors import ApiError
from shared.clock import Clock
from shared.db.direct import fetch
from shared.logging import get_logger
from shared.signing.keys import PartnerKeys
from shared.signing.signature import (
    NONCE_RE,
    PREFIXES,
    TIMESTAMP_RE,
    HeaderNames,
    Partner,
    check_signature,
    header_names,
)
from shared.signing.tables import NONCE_TABLE, nonce_table

__all__ = [
    "MESSAGES",
    "REPLAY_SECONDS",
    "WINDOW_SECONDS",
    "SignatureError",
    "SignedRequest",
    "authenticate",
    "purge_nonces",
    "remember_nonce",
    "verify_request",
]

WINDOW_SECONDS = 300
REPLAY_SECONDS = 600

# code -> (中文, English); bad_signature's text is fixed by the contract's example.
MESSAGES: dict[str, tuple[str, str]] = {
    "missing_signature": ("缺少签名信息或格式错误", "missing or malformed signature header"),
    "unknown_key": ("未知的签名密钥", "unknown signing key"),
    "stale_timestamp": ("时间戳超出允许范围", "timestamp outside the allowed window"),
    "bad_signature": ("签名无效", "invalid signature"),
    "replayed_nonce": ("重复的请求（随机数已使用）", "nonce already used"),
}

_log = get_logger(__name__)


class SignatureError(ApiError):
    """A refused signed request: 401 with one error item whose field is the header at fault."""

    def __init__(self, code: str, field: str) -> None:
        zh, en = MESSAGES[code]
        super().__init__(401, code, zh, en, field=field)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class SignedRequest:
    """What a request's headers proved, once its signature checked out."""

    partner: Partner
    key_id: str
    timestamp: int
    nonce: str


def _check_windows(window_seconds: int, replay_seconds: int) -> None:
    # A signed request is usable while its timestamp is within ±window of the receiver's
    # clock, i.e. for up to 2 × window. Forgetting its nonce any sooner would let the very
    # same request be replayed before it went stale.
    if window_seconds <= 0:
        raise ValueError("window_seconds must be positive")
    if replay_seconds < 2 * window_seconds:
        raise ValueError("replay_seconds must be at least 2 × window_seconds")


def _header_values(headers: Mapping[str, str], names: HeaderNames) -> dict[str, str | None]:
    """Our four headers, looked up case-insensitively; ``None`` when absent or repeated.

    Starlette's ``Headers.items()`` yields a repeated header once per occurrence, and a plain
    dict may hold two spellings of one name: either way the request is ambiguous.
    """
    wanted = {name.lower(): name for name in names.all()}
    found: dict[str, str | None] = {}
    repeated: set[str] = set()
    for key, value in headers.items():
        name = wanted.get(key.lower())
        if name is None:
            continue
        if name in found:
            repeated.add(name)
        found[name] = value
    return {name: (None if name in repeated else found.get(name)) for name in names.all()}


def authenticate(
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    partner: Partner,
    keys: PartnerKeys,
    clock: Clock,
    window_seconds: int = WINDOW_SECONDS,
) -> SignedRequest:
    """Checks 1–4 (everything but replay), pure: no I/O. Raises ``SignatureError``."""
    if partner not in PREFIXES:
        raise ValueError(f"unknown partner {partner!r}")
    names = header_names(partner)
    values = _header_values(headers, names)

    key_id = values[names.key_id]
    if not key_id:
        raise SignatureError("missing_signature", names.key_id)
    timestamp = values[names.timestamp]
    if timestamp is None or not TIMESTAMP_RE.fullmatch(timestamp):
        raise SignatureError("missing_signature", names.timestamp)
    nonce = values[names.nonce]
    if nonce is None or not NONCE_RE.fullmatch(nonce):
        raise SignatureError("missing_signature", names.nonce)
    signature = values[names.signature]
    if not signature:
        raise SignatureError("missing_signature", names.signature)

    secret = keys.get(key_id)
    if secret is None:
        raise SignatureError("unknown_key", names.key_id)

    # "more than 300 s from its clock (either way)": exactly 300 s is still fresh.
    if abs(clock.now().timestamp() - int(timestamp)) > window_seconds:
        raise SignatureError("stale_timestamp", names.timestamp)

    if not check_signature(secret, timestamp, nonce, raw_body, signature):
        raise SignatureError("bad_signature", names.signature)

    return SignedRequest(partner=partner, key_id=key_id, timestamp=int(timestamp), nonce=nonce)


@lru_cache(maxsize=32)
def _nonces(schema: str) -> Table:
    return nonce_table(MetaData(schema=schema))


async def remember_nonce(
    db: AsyncConnection,
    *,
    schema: str,
    partner: Partner,
    key_id: str,
    nonce: str,
    clock: Clock,
    replay_seconds: int = REPLAY_SECONDS,
) -> bool:
    """Record ``(partner, key_id, nonce)`` as accepted now; ``False`` if it already was
    accepted within the last ``replay_seconds`` (a replay), ``True`` otherwise.

    A nonce last accepted longer ago than that is accepted again (the contract only forbids
    reuse within the window) and its ``accepted_at`` moves to now. The boundary is
    inclusive: a nonce accepted exactly ``replay_seconds`` ago is still a replay, which
    closes the corner where a request signed at T is accepted at T − 300 and replayed at
    T + 300.

    ``verify_request`` calls this on the caller's connection. Call it yourself, in its own
    short transaction, for an authenticated request whose transaction is then rolled back
    for another reason (a 422 for invalid content, a 404): the contract counts the request
    as accepted, so its nonce must still be remembered, and a replay of it gets 401
    ``replayed_nonce``. For example::

        try:
            async with db.transaction("intake") as conn:
                key_id = await verify_partner(request, conn, schema="intake", partner="hotline")
                ...  # validate, then store; raises ApiError(422) on bad content
        except ApiError as exc:
            if exc.status != 401:  # authenticated, refused later: still remember the nonce
                nonce = request.headers[header_names("hotline").nonce]
                async with db.transaction("intake") as conn:
                    await remember_nonce(conn, schema="intake", partner="hotline",
                                         key_id=key_id, nonce=nonce, clock=clock)
            raise

    There is a moment between the rollback and this insert in which a copy of the request
    could pass; it carries the same signed body and so meets the same refusal.

    One statement decides atomically (``INSERT … ON CONFLICT DO UPDATE … WHERE`` the stored
    one is older than the window ``RETURNING``): no row back means it was accepted within
    the window, so this is a replay. Concurrent inserts of one nonce wait for each other on its key.
    """
    now = clock.now()
    params = {
        "partner": partner,
        "key_id": key_id,
        "nonce": nonce,
        "now": now,
        "cutoff": now - timedelta(seconds=replay_seconds),
    }
    return bool(await fetch(db, _remember_statement(schema), params))


@lru_cache(maxsize=8)
def _remember_statement(schema: str) -> TextClause:
    """``remember_nonce``'s statement, built once per schema (schema names come from code):
    building it for every request was a noticeable part of a signed push's CPU time."""
    return text(
        f"INSERT INTO {schema}.{NONCE_TABLE} AS n (partner, key_id, nonce, accepted_at) "  # noqa: S608
        "VALUES (:partner, :key_id, :nonce, :now) "
        "ON CONFLICT (partner, key_id, nonce) DO UPDATE SET accepted_at = excluded.accepted_at "
        "WHERE n.accepted_at < :cutoff RETURNING n.nonce"
    )


async def verify_request(
    db: AsyncConnection,
    *,
    schema: str,
    partner: Partner,
    headers: Mapping[str, str],
    raw_body: bytes,
    keys: PartnerKeys,
    clock: Clock,
    window_seconds: int = WINDOW_SECONDS,
    replay_seconds: int = REPLAY_SECONDS,
) -> str:
    """Verify a partner's signed request and record its nonce; return the key id.

    ``raw_body`` is the body bytes exactly as received. Raises ``SignatureError`` (401)
    and then has written nothing. On success the nonce row is written on ``db`` and is
    committed with the caller's transaction, which must be the one that carries the
    request's effect (see the module docstring, and ``remember_nonce`` for requests
    rejected after authentication).
    """
    _check_windows(window_seconds, replay_seconds)
    try:
        signed = authenticate(
            headers,
            raw_body,
            partner=partner,
            keys=keys,
            clock=clock,
            window_seconds=window_seconds,
        )
        recorded = await remember_nonce(
            db,
            schema=schema,
            partner=partner,
            key_id=signed.key_id,
            nonce=signed.nonce,
            clock=clock,
            replay_seconds=replay_seconds,
        )
        if not recorded:
            raise SignatureError("replayed_nonce", header_names(partner).nonce)
    except SignatureError as exc:
        # "reason", not "code": the log redactor drops fields named like personal data.
        _log.info("signing.refused", partner=partner, reason=exc.code, header=exc.field)
        raise
    return signed.key_id


async def purge_nonces(db: AsyncConnection, *, schema: str, older_than: datetime) -> int:
    """Delete nonces accepted before ``older_than``; return how many (for a periodic job).

    Pass at most ``clock.now() - timedelta(seconds=REPLAY_SECONDS)``: deleting a younger
    nonce would let its request be replayed.
    """
    table = _nonces(schema)
    result = await db.execute(delete(table).where(table.c.accepted_at < older_than))
    return int(result.rowcount or 0)
