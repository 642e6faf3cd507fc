"""Tests for shared.crypto: encryption, rotation, lookup hashes, envelopes, masks, redaction
and ID/mobile validation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.crypto import (
    PII_AAD,
    CryptoError,
    DecryptionError,
    HashKey,
    KeyRing,
    UnknownKeyError,
    canonical_json,
    id_check_char,
    is_valid_id_number,
    is_valid_mobile,
    mask_address,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_phone,
    open_pii,
    redact,
    seal_pii,
    token_key_id,
)

# No per-example deadline: timing on a loaded CI machine must not fail a correctness test.
FAST = settings(deadline=None, max_examples=100)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))


def _fw(text: str) -> str:
    """Full-width form of ASCII text, as typed with a Chinese IME."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _spec(key_id: str, key: bytes) -> str:
    return f"{key_id}:{base64.b64encode(key).decode()}"


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.parse(_spec("k1", KEY_A))


def _flip(token: str, index: int) -> str:
    """Change one base64url character of the payload to a different valid one."""
    chars = list(token)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)


# --------------------------------------------------------------------------- KeyRing


def test_encrypt_decrypt_round_trip(ring: KeyRing) -> None:
    token = ring.encrypt(b"secret \x00 bytes", b"ctx")
    assert ring.decrypt(token, b"ctx") == b"secret \x00 bytes"
    assert ring.decrypt(token.encode("ascii"), b"ctx") == b"secret \x00 bytes"


def test_token_format(ring: KeyRing) -> None:
    token = ring.encrypt(b"hello")
    version, key_id, body = token.split(".")
    assert (version, key_id) == ("v1", "k1")
    assert token.isascii()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body)
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert len(raw) == 12 + len(b"hello") + 16  # nonce || ciphertext || GCM tag
    assert token_key_id(token) == "k1"


def test_encryption_is_randomised(ring: KeyRing) -> None:
    assert ring.encrypt(b"same") != ring.encrypt(b"same")


def test_text_helpers(ring: KeyRing) -> None:
    token = ring.encrypt_text("张三 13800138000")
    assert token is not None and "张三" not in token
    assert ring.decrypt_text(token) == "张三 13800138000"
    assert ring.encrypt_text(None) is None
    assert ring.decrypt_text(None) is None


def test_aad_must_match(ring: KeyRing) -> None:
    token = ring.encrypt(b"data", b"table=person;col=phone")
    with pytest.raises(DecryptionError):
        ring.decrypt(token, b"table=person;col=id_number")
    with pytest.raises(DecryptionError):
        ring.decrypt(token)


def test_rotation_old_tokens_still_decrypt() -> None:
    old_ring = KeyRing.parse(_spec("k1", KEY_A))
    old_token = old_ring.encrypt(b"from before rotation")

    rotated = KeyRing.parse(f"{_spec('k2', KEY_B)},{_spec('k1', KEY_A)}")
    assert rotated.current_key_id == "k2"
    assert rotated.key_ids == ("k2", "k1")
    assert rotated.decrypt(old_token) == b"from before rotation"

    new_token = rotated.encrypt(b"after rotation")
    assert token_key_id(new_token) == "k2"
    with pytest.raises(UnknownKeyError):
        old_ring.decrypt(new_token)


def test_unknown_key_id(ring: KeyRing) -> None:
    other = KeyRing.parse(_spec("k9", KEY_B))
    token = other.encrypt(b"x")
    with pytest.raises(UnknownKeyError) as excinfo:
        ring.decrypt(token)
    assert isinstance(excinfo.value, KeyError)
    assert isinstance(excinfo.value, CryptoError)
    assert excinfo.value.key_id == "k9"
    assert "k9" in str(excinfo.value)


@pytest.mark.parametrize("position", [0, 5, 17, -20, -1])
def test_tampered_payload_is_rejected(ring: KeyRing, position: int) -> None:
    token = ring.encrypt(b"the quick brown fox", b"aad")
    header_len = len("v1.k1.")
    index = header_len + position if position >= 0 else len(token) + position
    with pytest.raises(DecryptionError):
        ring.decrypt(_flip(token, index), b"aad")


def test_every_change_of_the_last_character_is_rejected(ring: KeyRing) -> None:
    # 47 payload bytes leave two unused bits in the last base64 character: a decoder that
    # ignored them would accept altered spellings of the same token.
    token = ring.encrypt(b"the quick brown fox", b"aad")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for ch in alphabet:
        if ch == token[-1]:
            continue
        with pytest.raises(DecryptionError):
            ring.decrypt(token[:-1] + ch, b"aad")


def test_relabelled_key_id_is_rejected() -> None:
    # Two ids holding the same key: only binding the header into the AAD catches this.
    ring = KeyRing([("k1", KEY_A), ("k2", KEY_A)])
    token = ring.encrypt(b"payload")
    assert ring.decrypt(token) == b"payload"
    with pytest.raises(DecryptionError):
        ring.decrypt(token.replace("v1.k1.", "v1.k2.", 1))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "v1.k1",
        "v2.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.k1.AAAA",  # shorter than nonce + tag
        "v1.k1.AAAA AAAA",
        "v1.k1.A",  # impossible base64 length
        "v1.k1.a.b",
        "v1.k 1.AAAA",
        b"v1.k1.\xff\xfe",
    ],
)
def test_malformed_tokens(ring: KeyRing, token: str | bytes) -> None:
    with pytest.raises(DecryptionError):
        ring.decrypt(token)


def test_truncated_token_is_rejected(ring: KeyRing) -> None:
    token = ring.encrypt(b"some longer plaintext value")
    with pytest.raises(DecryptionError):
        ring.decrypt(token[:-3])


def test_parse_accepts_standard_and_urlsafe_base64() -> None:
    key = bytes([0xFB, 0xFF, 0xBE] * 10 + [0xFF, 0xFF])  # encodes with + and / characters
    standard = base64.b64encode(key).decode()
    urlsafe = base64.urlsafe_b64encode(key).decode()
    assert "+" in standard and "/" in standard and standard != urlsafe
    token = KeyRing.parse(f"k1:{standard}").encrypt(b"x")
    assert KeyRing.parse(f"k1:{urlsafe}").decrypt(token) == b"x"
    assert KeyRing.parse(f" k1 : {urlsafe.rstrip('=')} ").decrypt(token) == b"x"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("k1", "key_id:base64key"),
        ("k1:", "key_id:base64key"),
        (":" + base64.b64encode(KEY_A).decode(), "key_id:base64key"),
        ("k1:not*base64!", "not valid base64"),
        ("k1:QUJD=QUJD", "not valid base64"),
        ("k1:" + base64.b64encode(bytes(16)).decode(), "16 bytes"),
        ("k1:" + base64.b64encode(bytes(33)).decode(), "33 bytes"),
        (f"{_spec('k1', KEY_A)},{_spec('k1', KEY_B)}", "duplicate"),
        (f"{_spec('k1', KEY_A)},,{_spec('k2', KEY_B)}", "entry 2 is empty"),
        (f"{_spec('k1', KEY_A)},", "entry 2 is empty"),
        ("bad.id:" + base64.b64encode(KEY_A).decode(), "invalid data key id"),
    ],
)
def test_parse_rejects_malformed_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as excinfo:
        KeyRing.parse(spec)
    assert "MINSHENG_DATA_KEYS" in str(excinfo.value)


def test_constructor_validates_keys() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        KeyRing([])
    with pytest.raises(ValueError, match="31 bytes"):
        KeyRing([("k1", bytes(31))])
    with pytest.raises(ValueError, match="duplicate"):
        KeyRing([("k1", KEY_A), ("k1", KEY_B)])
    with pytest.raises(ValueError, match="invalid data key id"):
        KeyRing([("a:b", KEY_A)])


def test_parse_error_does_not_leak_key_material() -> None:
    encoded = base64.b64encode(b"S" * 31).decode()
    with pytest.raises(ValueError) as excinfo:
        KeyRing.parse(f"k1:{encoded}")
    assert encoded not in str(excinfo.value)


def test_generate_spec() -> None:
    spec = KeyRing.generate_spec()
    assert spec.startswith("k1:")
    ring = KeyRing.parse(spec)
    assert ring.decrypt(ring.encrypt(b"x")) == b"x"
    assert KeyRing.generate_spec("k7").startswith("k7:")
    assert KeyRing.generate_spec() != spec
    with pytest.raises(ValueError):
        KeyRing.generate_spec("bad.id")


def test_repr_hides_keys() -> None:
    encoded = base64.b64encode(KEY_A).decode()
    ring = KeyRing.parse(f"k1:{encoded}")
    assert encoded not in repr(ring) and "k1" in repr(ring)
    assert "secret-value" not in repr(HashKey("secret-value"))


@FAST
@given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=64))
def test_property_bytes_round_trip(plaintext: bytes, aad: bytes) -> None:
    ring = KeyRing.parse(_spec("k1", KEY_A))
    assert ring.decrypt(ring.encrypt(plaintext, aad), aad) == plaintext


@FAST
@given(text=st.text(max_size=200))
def test_property_text_round_trip(text: str) -> None:
    ring = KeyRing.parse(f"{_spec('new', KEY_B)},{_spec('old', KEY_A)}")
    token = ring.encrypt_text(text)
    assert token is not None and token.startswith("v1.new.")
    assert ring.decrypt_text(token) == text


# --------------------------------------------------------------------------- HashKey


@pytest.mark.parametrize(
    "variant",
    [
        "13800138000",
        "+86 138-0013-8000",
        "+8613800138000",
        "0086 138 0013 8000",
        "8613800138000",
        " 138 0013 8000 ",
        _fw("13800138000"),
        _fw("138-0013-8000"),
        "138\u20140013\u20148000",  # em dashes
    ],
)
def test_phone_hash_normalisation(variant: str) -> None:
    key = HashKey("hash-secret")
    assert key.digest("phone", variant) == key.digest("phone", "13800138000")


def test_hash_is_hmac_sha256_over_kind_and_normalised_value() -> None:
    key = HashKey("hash-secret")
    expected = hmac.new(b"hash-secret", b"phone\x0013800138000", hashlib.sha256).hexdigest()
    assert key.digest("phone", "+86 138-0013-8000") == expected
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


def test_hash_distinguishes_kinds_keys_and_values() -> None:
    key = HashKey("hash-secret")
    assert key.digest("phone", "13800138000") != key.digest("other", "13800138000")
    assert key.digest("phone", "13800138000") != key.digest("phone", "13800138001")
    assert key.digest("phone", "13800138000") != HashKey("another").digest("phone", "13800138000")


def test_id_number_and_generic_hash_normalisation() -> None:
    key = HashKey("hash-secret")
    assert key.digest("id_number", " 11010519491231002x ") == key.digest(
        "id_number", "11010519491231002X"
    )
    assert key.digest("id_number", "1101 0519 4912 3100 2X") == key.digest(
        "id_number", "11010519491231002X"
    )
    assert key.digest("name", "  ＡＢＣ張 ") == key.digest("name", "ABC張")
    assert key.digest("name", "abc") != key.digest("name", "ABC")


def test_hash_rejects_empty_input() -> None:
    with pytest.raises(ValueError):
        HashKey("")
    with pytest.raises(ValueError):
        HashKey("   ")
    key = HashKey("k")
    with pytest.raises(ValueError):
        key.digest("phone", " - ")
    with pytest.raises(ValueError):
        key.digest("", "x")


# --------------------------------------------------------------------------- envelope


def test_envelope_round_trip(ring: KeyRing) -> None:
    data = {"name": "张三", "phone": "13800138000", "tags": [1, 2.5, None, True], "n": {"a": 1}}
    sealed = seal_pii(ring, data)
    assert set(sealed) == {"kid", "ct"}
    assert sealed["kid"] == "k1"
    wire = json.loads(json.dumps(sealed))
    assert "张三" not in wire["ct"] and "13800138000" not in wire["ct"]
    assert open_pii(ring, wire) == data


def test_envelope_is_bound_to_its_purpose(ring: KeyRing) -> None:
    # A token made without the PII AAD (e.g. a column value) cannot pose as an envelope.
    token = ring.encrypt(canonical_json({"a": 1}))
    with pytest.raises(DecryptionError):
        open_pii(ring, {"kid": "k1", "ct": token})
    assert ring.decrypt(ring.encrypt(b"{}", PII_AAD), PII_AAD) == b"{}"


def test_envelope_rejects_tampering(ring: KeyRing) -> None:
    sealed = seal_pii(ring, {"a": 1})
    with pytest.raises(DecryptionError):
        open_pii(ring, {"kid": "k2", "ct": sealed["ct"]})
    with pytest.raises(DecryptionError):
        open_pii(ring, {"kid": "k1", "ct": _flip(sealed["ct"], 10)})
    with pytest.raises(DecryptionError):
        open_pii(ring, {"kid": "k1"})
    with pytest.raises(DecryptionError):
        open_pii(ring, {"kid": "k1", "ct": 5})


def test_envelope_rotation_and_unknown_key() -> None:
    old = KeyRing.parse(_spec("k1", KEY_A))
    sealed = seal_pii(old, {"id_number": "11010519491231002X"})
    rotated = KeyRing.parse(f"{_spec('k2', KEY_B)},{_spec('k1', KEY_A)}")
    assert open_pii(rotated, sealed) == {"id_number": "11010519491231002X"}
    assert seal_pii(rotated, {})["kid"] == "k2"
    with pytest.raises(UnknownKeyError):
        open_pii(KeyRing.parse(_spec("k3", KEY_B)), sealed)


def test_envelope_canonical_json_and_bad_input(ring: KeyRing) -> None:
    assert canonical_json({"b": 1, "a": "张"}) == '{"a":"张","b":1}'.encode()
    with pytest.raises(TypeError):
        seal_pii(ring, ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        seal_pii(ring, {"when": dt.date(2026, 1, 1)})
    sealed = {"kid": "k1", "ct": ring.encrypt(b"[1,2]", PII_AAD)}
    with pytest.raises(DecryptionError):
        open_pii(ring, sealed)


# --------------------------------------------------------------------------- masking


def test_mask_phone() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("+86 138-0013-8000") == "138****8000"
    assert mask_phone("138****8000") == "138****8000"
    assert mask_phone("075512345678") == "075*****5678"
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == ""
    assert mask_phone(None) is None


def test_mask_id_number() -> None:
    assert mask_id_number("440306198001011234") == "440306********1234"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("440306800101123") == "440306*****1123"
    assert mask_id_number("44030619800") == "***********"
    assert mask_id_number(None) is None


def test_mask_name() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("John Smith") == "J*********"
    assert mask_name("李") == "*"
    assert mask_name("") == ""
    assert mask_name(None) is None


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("广东省深圳市宝安区西乡街道某某小区3栋101", "广东省深圳市宝安区****"),
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("深圳市南山区科技园1号", "深圳市南山区****"),
        ("浙江省杭州市西湖区文三路100号", "浙江省杭州市西湖区****"),
        ("江苏省苏州市昆山市玉山镇某村", "江苏省苏州市昆山市****"),
        ("四川省凉山彝族自治州西昌市某路", "四川省凉山彝族自治州西昌市****"),
        ("内蒙古自治区呼和浩特市新城区某街", "内蒙古自治区呼和浩特市新城区****"),
        ("广东省东莞市长安镇某某村", "广东省东莞市****"),  # no district level: stop at city
        ("河北省邯郸市大名县城关镇", "河北省邯郸市大名县****"),
        ("广东省深圳市宝安区", "广东省深圳市宝安区"),
        ("某某小区3栋101", "****"),  # no province/city: nothing is safe to keep
        ("", ""),
    ],
)
def test_mask_address(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_mask_address_none_and_email() -> None:
    assert mask_address(None) is None
    assert mask_email("zhangsan@example.com") == "z*******@example.com"
    assert mask_email("a@example.com") == "*@example.com"
    assert mask_email("not-an-email") == "************"
    assert mask_email(None) is None


# --------------------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13800138000联系", "电话138****8000联系"),
        ("手机:138 0013 8000。", "手机:138****8000。"),
        ("手机138-0013-8000", "手机138****8000"),
        ("call +86 138-0013-8000 now", "call 138****8000 now"),
        ("+8613800138000", "138****8000"),
        ("座机0755-12345678转", "座机0755-****5678转"),
        ("座机(0755)12345678", "座机(0755)****5678"),
        ("北京010-1234567", "北京010-***4567"),
        ("身份证440306198001011234。", "身份证440306********1234。"),
        ("身份证号11010519491231002x。", "身份证号110105********002X。"),
        ("老身份证440306800101123号", "老身份证440306*****1123号"),
        ("全角" + _fw("13800138000"), "全角138****8000"),
        ("座机" + _fw("(0755)12345678"), "座机" + _fw("(0755)") + "****5678"),
        ("两个13800138000和13900139000", "两个138****8000和139****9000"),
    ],
)
def test_redact_examples(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号12345678901234567890已发货",  # 20-digit order number
        "订单号91380013800012345678",  # a mobile-looking run inside a longer number
        "编号913800138000",  # 12 digits
        "日期20261124。时间2026-11-24 13:00",
        "已脱敏138****8000和440306********1234",
        "金额12000元。12800138000000",
        "邮编518000。房号1201",
        "",
        "没有数字的文本",
    ],
)
def test_redact_leaves_other_text_alone(text: str) -> None:
    assert redact(text) == text


_CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=6)
_MOBILES = st.builds(
    lambda second, rest: f"1{second}{rest:09d}",
    st.sampled_from("3456789"),
    st.integers(min_value=0, max_value=999_999_999),
)
_FORMATS = st.sampled_from(
    [
        lambda p: p,
        lambda p: f"{p[:3]} {p[3:7]} {p[7:]}",
        lambda p: f"{p[:3]}-{p[3:7]}-{p[7:]}",
        lambda p: f"+86 {p}",
        lambda p: f"+86{p[:3]}-{p[3:7]}-{p[7:]}",
        lambda p: f"0086{p}",
    ]
)


@FAST
@given(
    data=st.lists(st.tuples(_CJK, _MOBILES, _FORMATS), min_size=1, max_size=5),
    tail=_CJK,
)
def test_property_redact_removes_every_mobile(
    data: list[tuple[str, str, Callable[[str], str]]], tail: str
) -> None:
    # Phones are separated by at least one non-digit so each one stands alone.
    text = "".join(f"{prefix}说{fmt(phone)}" for prefix, phone, fmt in data) + tail
    out = redact(text)
    compact = re.sub(r"[ -]", "", out)
    for _, phone, _ in data:
        assert phone not in compact
        assert f"{phone[:3]}****{phone[-4:]}" in out
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", compact)


@FAST
@given(text=st.text(alphabet="0123456789 -+()Xx张三电话\uff08\uff09", max_size=60))
def test_property_redact_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


# --------------------------------------------------------------------------- validation


def _reference_check_char(first17: str) -> str:
    # ISO 7064 MOD 11-2 written independently of the weight table in the module.
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    return "0123456789X"[(12 - total % 11) % 11]


def test_known_valid_id_numbers() -> None:
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert is_valid_id_number(" 11010519491231002X ")
    assert id_check_char("11010519491231002") == "X"
    for prefix in ["44030619800101123", "32010219900307001", "51010720001229456"]:
        number = prefix + _reference_check_char(prefix)
        assert id_check_char(prefix) == number[-1]
        assert is_valid_id_number(number), number


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # check character should be X
        "11010519491231002",  # too short
        "11010519491231002XX",
        "X10105194912310021",
        "",
        "ABCDEFGHIJKLMNOPQR",
    ],
)
def test_invalid_id_numbers(number: str) -> None:
    assert not is_valid_id_number(number)


def test_full_width_digits_are_normalised() -> None:
    assert is_valid_id_number(_fw("11010519491231002X"))


@pytest.mark.parametrize(
    ("birth", "valid"),
    [
        ("19491231", True),
        ("20000229", True),  # leap year
        ("19000101", True),
        ("21001231", True),
        ("19490229", False),  # 1949 is not a leap year
        ("19491232", False),
        ("19491301", False),
        ("18991231", False),  # before 1900
        ("21010101", False),  # after 2100
    ],
)
def test_id_number_birth_date_checks(birth: str, valid: bool) -> None:
    # Correct checksum in every case, so only the date decides.
    body = f"110105{birth}002"
    assert is_valid_id_number(body + _reference_check_char(body)) is valid


def test_old_15_digit_id_numbers() -> None:
    assert is_valid_id_number("440306800101123")
    assert is_valid_id_number("110105491231002")
    assert not is_valid_id_number("440306801301123")  # month 13
    assert not is_valid_id_number("440306810229123")  # 1981 not a leap year
    assert not is_valid_id_number("440306000229123")  # read as 1900, which was not a leap year
    assert not is_valid_id_number("44030680010112X")


def test_is_valid_id_number_rejects_non_strings() -> None:
    assert not is_valid_id_number(None)
    assert not is_valid_id_number(11010519491231002)


def test_id_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        id_check_char("1234")
    with pytest.raises(ValueError):
        id_check_char("1101051949123100X")


_BIRTH_DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@FAST
@given(
    region=st.integers(min_value=110000, max_value=829999),
    birth=_BIRTH_DATES,
    sequence=st.integers(min_value=0, max_value=999),
    replacement=st.sampled_from("0123456789X"),
)
def test_property_id_checksum(region: int, birth: dt.date, sequence: int, replacement: str) -> None:
    first17 = f"{region:06d}{birth:%Y%m%d}{sequence:03d}"
    valid = first17 + _reference_check_char(first17)
    assert is_valid_id_number(valid)
    assert is_valid_id_number(valid.lower())
    if replacement != valid[-1]:
        assert not is_valid_id_number(first17 + replacement)


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("13800138000", True),
        ("+86 138-0013-8000", True),
        ("0086 19912345678", True),
        ("12800138000", False),
        ("1380013800", False),
        ("138001380001", False),
        ("0755-12345678", False),
        ("", False),
    ],
)
def test_is_valid_mobile(phone: str, valid: bool) -> None:
    assert is_valid_mobile(phone) is valid


def test_normalize_phone() -> None:
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("0086 138 0013 8000") == "13800138000"
    assert normalize_phone("8613800138000") == "13800138000"
    assert normalize_phone("0755-1234 5678") == "075512345678"
    assert normalize_phone("86123") == "86123"  # a bare 86 is only a prefix before a mobile


@FAST
@given(phone=_MOBILES, fmt=_FORMATS)
def test_property_generated_mobiles_are_valid(phone: str, fmt: Callable[[str], str]) -> None:
    formatted = fmt(phone)
    assert is_valid_mobile(formatted)
    assert normalize_phone(formatted) == phone
    assert mask_phone(formatted) == f"{phone[:3]}****{phone[-4:]}"
