"""Signing (integrations §0) without a database: the HMAC format, key lists, outbound
headers, and every check before the nonce store."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.settings import Settings
from shared.signing import (
    NONCE_RE,
    PartnerKeys,
    SignatureError,
    SignedClient,
    authenticate,
    check_signature,
    encode_json,
    header_names,
    new_nonce,
    parse_key_pairs,
    partner_keys,
    sign,
    signed_headers,
)

NOW = datetime(2026, 11, 22, 1, 15, tzinfo=UTC)
KEYS = PartnerKeys.parse("hotline-a:secret-a,hotline-b:secret-b")
BODY = '{"order_no":"GD202611220001234","title":"小区门口餐饮店油烟扰民"}'.encode()

nonces = st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z")
timestamps = st.integers(min_value=0, max_value=10**12).map(str)
secrets_ = st.binary(min_size=1, max_size=64)


# --- the signature ----------------------------------------------------------------------


def test_known_answer() -> None:
    secret = "s3cr:et/密钥".encode()
    body = '{"title":"油烟扰民","content":"请求处理"}'.encode()
    message = b"1700000000\n" + b"abc_DEF-123" + b"\n" + body
    expected = hmac.new(secret, message, hashlib.sha256).hexdigest()
    got = sign(secret, "1700000000", "abc_DEF-123", body)
    assert got == expected
    assert re.fullmatch(r"[0-9a-f]{64}", got)
    # and a literal, so a change of hashing or concatenation cannot hide behind the helper
    assert sign(b"key", "1", "n", b"") == hmac.new(b"key", b"1\nn\n", hashlib.sha256).hexdigest()


def test_body_is_raw_bytes_not_reserialised() -> None:
    compact = encode_json({"title": "油烟"})
    assert compact == '{"title":"油烟"}'.encode()
    spaced = b'{"title": "\\u6cb9\\u70df"}'  # the same JSON value, other bytes
    assert sign(b"k", "1", "n", compact) != sign(b"k", "1", "n", spaced)


def test_check_signature_is_strict_lowercase_hex() -> None:
    good = sign(b"k", "1700000000", "n", BODY)
    assert check_signature(b"k", "1700000000", "n", BODY, good)
    assert not check_signature(b"k", "1700000000", "n", BODY, good.upper())
    assert not check_signature(b"k", "1700000000", "n", BODY, good[:-1])
    assert not check_signature(b"k", "1700000000", "n", BODY, good + "0")
    assert not check_signature(b"k", "1700000000", "n", BODY, "签名" * 32)
    assert not check_signature(b"k", "1700000000", "n", BODY, "")


@given(secret=secrets_, timestamp=timestamps, nonce=nonces, body=st.binary(max_size=2048))
def test_any_request_signs_and_verifies(
    secret: bytes, timestamp: str, nonce: str, body: bytes
) -> None:
    signature = sign(secret, timestamp, nonce, body)
    assert check_signature(secret, timestamp, nonce, body, signature)


@given(
    secret=secrets_,
    timestamp=timestamps,
    nonce=nonces,
    body=st.binary(min_size=1, max_size=1024),
    data=st.data(),
)
def test_any_single_byte_change_of_the_body_fails(
    secret: bytes, timestamp: str, nonce: str, body: bytes, data: st.DataObject
) -> None:
    signature = sign(secret, timestamp, nonce, body)
    i = data.draw(st.integers(0, len(body) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != body[i]))
    changed = body[:i] + bytes([new]) + body[i + 1 :]
    assert not check_signature(secret, timestamp, nonce, changed, signature)


def _change_one_char(value: str, alphabet: str, data: st.DataObject) -> str:
    i = data.draw(st.integers(0, len(value) - 1))
    new = data.draw(st.sampled_from(alphabet).filter(lambda c: c != value[i]))
    return value[:i] + new + value[i + 1 :]


NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


@given(secret=secrets_, timestamp=timestamps, nonce=nonces, body=st.binary(), data=st.data())
def test_any_single_change_of_a_header_value_fails(
    secret: bytes, timestamp: str, nonce: str, body: bytes, data: st.DataObject
) -> None:
    signature = sign(secret, timestamp, nonce, body)
    ts2 = _change_one_char(timestamp, "0123456789", data)
    assert not check_signature(secret, ts2, nonce, body, signature)
    nonce2 = _change_one_char(nonce, NONCE_ALPHABET, data)
    assert not check_signature(secret, timestamp, nonce2, body, signature)
    sig2 = _change_one_char(signature, "0123456789abcdef", data)
    assert not check_signature(secret, timestamp, nonce, body, sig2)


@given(secret=secrets_, other=secrets_, body=st.binary())
def test_another_secret_fails(secret: bytes, other: bytes, body: bytes) -> None:
    if secret == other:
        return
    assert not check_signature(other, "1", "n", body, sign(secret, "1", "n", body))


# --- key lists --------------------------------------------------------------------------


def test_secret_keeps_everything_after_the_first_colon() -> None:
    pairs = parse_key_pairs("k1:a:b:c,k2::x,k3:密钥")
    assert pairs == {"k1": b"a:b:c", "k2": b":x", "k3": "密钥".encode()}


def test_key_list_order_whitespace_and_lookup() -> None:
    keys = PartnerKeys.parse(" new:s-new , old:s-old ")
    assert keys.first() == ("new", b"s-new")
    assert keys.get("old") == b"s-old"
    assert keys.get("missing") is None
    assert keys.key_ids == ("new", "old")
    assert "old" in keys and len(keys) == 2
    assert "s-new" not in repr(keys) and "s-old" not in repr(keys)


@pytest.mark.parametrize(
    "spec",
    ["", "   ", "k1", ":secret", "k1:", "k1:a,k1:b", "k1:a,,k2:b", "k1:a,", "k 1:a", "密:a"],
)
def test_bad_key_lists_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        PartnerKeys.parse(spec)


@pytest.mark.parametrize("spec", ["hunter2", "k1:hunter2,k1:hunter2", "k 1:hunter2", ",k:hunter2"])
def test_key_list_errors_never_echo_a_secret(spec: str) -> None:
    with pytest.raises(ValueError) as exc:
        PartnerKeys.parse(spec)
    assert "hunter2" not in str(exc.value)


def test_partner_keys_from_settings() -> None:
    settings = Settings(hotline_keys="h1:x,h2:y", exchange_keys="p1:z")
    assert partner_keys(settings, "hotline").key_ids == ("h1", "h2")
    assert partner_keys(settings, "exchange").first() == ("p1", b"z")
    with pytest.raises(ValueError):
        partner_keys(settings, "open311")  # type: ignore[arg-type]


# --- outbound headers -------------------------------------------------------------------


def test_signed_headers() -> None:
    clock = FixedClock(NOW)
    headers = signed_headers("Hotline", "hotline-a", b"secret-a", BODY, clock)
    assert set(headers) == {
        "X-Hotline-Key-Id",
        "X-Hotline-Timestamp",
        "X-Hotline-Nonce",
        "X-Hotline-Signature",
    }
    assert headers["X-Hotline-Key-Id"] == "hotline-a"
    assert headers["X-Hotline-Timestamp"] == str(int(NOW.timestamp()))
    nonce = headers["X-Hotline-Nonce"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", nonce)
    expected = hmac.new(
        b"secret-a",
        headers["X-Hotline-Timestamp"].encode() + b"\n" + nonce.encode() + b"\n" + BODY,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Hotline-Signature"] == expected

    exchange = signed_headers("Exchange", "p", b"s", b"{}", clock, nonce="fixed-nonce_1")
    assert exchange["X-Exchange-Nonce"] == "fixed-nonce_1"
    assert set(exchange) == set(header_names("exchange").all())


def test_every_call_is_signed_afresh() -> None:
    clock = FixedClock(NOW)
    first = signed_headers("Hotline", "k", b"s", BODY, clock)
    clock.advance(timedelta(seconds=7))
    retry = signed_headers("Hotline", "k", b"s", BODY, clock)
    assert retry["X-Hotline-Nonce"] != first["X-Hotline-Nonce"]
    assert int(retry["X-Hotline-Timestamp"]) == int(first["X-Hotline-Timestamp"]) + 7
    assert retry["X-Hotline-Signature"] != first["X-Hotline-Signature"]


def test_nonces_fit_the_contract() -> None:
    seen = {new_nonce() for _ in range(500)}
    assert len(seen) == 500
    assert all(NONCE_RE.fullmatch(n) and 1 <= len(n) <= 64 for n in seen)


@pytest.mark.parametrize("bad", ["", "a" * 65, "has space", "a/b", "a+b", "a=", "非"])
def test_signed_headers_refuses_a_bad_nonce(bad: str) -> None:
    with pytest.raises(ValueError):
        signed_headers("Hotline", "k", b"s", b"", FixedClock(NOW), nonce=bad)


def test_signed_headers_refuses_unknown_prefix() -> None:
    with pytest.raises(ValueError):
        signed_headers("Open311", "k", b"s", b"", FixedClock(NOW))


def test_client_signs_with_the_first_key() -> None:
    import httpx

    client = SignedClient(httpx.AsyncClient(), partner="exchange", keys=KEYS, clock=FixedClock(NOW))
    headers = client.sign(BODY)
    assert headers["X-Exchange-Key-Id"] == "hotline-a"
    assert check_signature(
        b"secret-a",
        headers["X-Exchange-Timestamp"],
        headers["X-Exchange-Nonce"],
        BODY,
        headers["X-Exchange-Signature"],
    )


# --- inbound checks before the nonce store ----------------------------------------------


def _signed(clock: FixedClock, key: str = "hotline-a", body: bytes = BODY) -> dict[str, str]:
    secret = KEYS.get(key) or b"unconfigured"
    return signed_headers("Hotline", key, secret, body, clock)


def _refusal(headers: dict[str, str], body: bytes = BODY, at: datetime = NOW) -> tuple[str, str]:
    with pytest.raises(SignatureError) as exc:
        authenticate(headers, body, partner="hotline", keys=KEYS, clock=FixedClock(at))
    err = exc.value
    assert err.status == 401
    assert len(err.items) == 1
    assert (err.items[0].field, err.items[0].code) == (err.field, err.code)
    return err.field, err.code


def test_authenticate_accepts_and_is_case_insensitive() -> None:
    headers = _signed(FixedClock(NOW))
    signed = authenticate(headers, BODY, partner="hotline", keys=KEYS, clock=FixedClock(NOW))
    assert signed.key_id == "hotline-a"
    assert signed.nonce == headers["X-Hotline-Nonce"]
    lowered = {k.lower(): v for k, v in headers.items()}
    assert authenticate(lowered, BODY, partner="hotline", keys=KEYS, clock=FixedClock(NOW))


@pytest.mark.parametrize(
    "name", ["X-Hotline-Key-Id", "X-Hotline-Timestamp", "X-Hotline-Nonce", "X-Hotline-Signature"]
)
def test_missing_header(name: str) -> None:
    headers = _signed(FixedClock(NOW))
    del headers[name]
    assert _refusal(headers) == (name, "missing_signature")
    headers[name] = ""
    assert _refusal(headers) == (name, "missing_signature")


def test_missing_headers_reported_in_order() -> None:
    assert _refusal({}) == ("X-Hotline-Key-Id", "missing_signature")
    headers = _signed(FixedClock(NOW))
    del headers["X-Hotline-Nonce"]
    del headers["X-Hotline-Signature"]
    assert _refusal(headers) == ("X-Hotline-Nonce", "missing_signature")


def test_exchange_headers_do_not_sign_a_hotline_request() -> None:
    clock = FixedClock(NOW)
    headers = signed_headers("Exchange", "hotline-a", b"secret-a", BODY, clock)
    assert _refusal(headers) == ("X-Hotline-Key-Id", "missing_signature")


@pytest.mark.parametrize("bad", ["", "a" * 65, "with space", "a.b", "a/b", "随机"])
def test_malformed_nonce_is_missing_signature(bad: str) -> None:
    headers = _signed(FixedClock(NOW))
    headers["X-Hotline-Nonce"] = bad
    assert _refusal(headers) == ("X-Hotline-Nonce", "missing_signature")


@pytest.mark.parametrize("bad", ["-1", "1.5", "1e9", " 1700000000", "0x10", "١٢٣", "1" * 17])
def test_malformed_timestamp_is_missing_signature(bad: str) -> None:
    headers = _signed(FixedClock(NOW))
    headers["X-Hotline-Timestamp"] = bad
    assert _refusal(headers) == ("X-Hotline-Timestamp", "missing_signature")


def test_repeated_header_is_missing_signature() -> None:
    headers = _signed(FixedClock(NOW))
    headers["x-hotline-nonce"] = headers["X-Hotline-Nonce"]
    assert _refusal(headers) == ("X-Hotline-Nonce", "missing_signature")


def test_unknown_key_comes_before_stale_and_bad() -> None:
    headers = _signed(FixedClock(NOW - timedelta(hours=1)), key="retired")
    assert _refusal(headers) == ("X-Hotline-Key-Id", "unknown_key")


@pytest.mark.parametrize("offset", [301, -301, 86400, -86400])
def test_stale_either_way(offset: int) -> None:
    headers = _signed(FixedClock(NOW + timedelta(seconds=offset)))
    assert _refusal(headers) == ("X-Hotline-Timestamp", "stale_timestamp")


@pytest.mark.parametrize("offset", [300, -300, 0])
def test_window_edge_is_fresh(offset: int) -> None:
    headers = _signed(FixedClock(NOW + timedelta(seconds=offset)))
    assert authenticate(headers, BODY, partner="hotline", keys=KEYS, clock=FixedClock(NOW))


def test_stale_comes_before_bad_signature() -> None:
    headers = _signed(FixedClock(NOW - timedelta(seconds=400)))
    headers["X-Hotline-Signature"] = "0" * 64
    assert _refusal(headers) == ("X-Hotline-Timestamp", "stale_timestamp")


def test_bad_signature() -> None:
    headers = _signed(FixedClock(NOW))
    assert _refusal(headers, body=BODY + b" ") == ("X-Hotline-Signature", "bad_signature")
    headers["X-Hotline-Signature"] = "not hex at all"
    assert _refusal(headers) == ("X-Hotline-Signature", "bad_signature")


def test_signed_with_another_configured_key_is_bad() -> None:
    headers = signed_headers("Hotline", "hotline-b", b"secret-a", BODY, FixedClock(NOW))
    assert _refusal(headers) == ("X-Hotline-Signature", "bad_signature")


def test_error_body() -> None:
    err = SignatureError("bad_signature", "X-Hotline-Signature")
    assert [i.as_dict() for i in err.items] == [
        {
            "field": "X-Hotline-Signature",
            "code": "bad_signature",
            "message": "签名无效 / invalid signature",
        }
    ]
