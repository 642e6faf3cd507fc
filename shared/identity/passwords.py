"""Password hashing (argon2id through argon2-cffi) and the minimal password policy.

Hashing costs tens of milliseconds of CPU: async callers run these functions in a thread
(``asyncio.to_thread``) so the event loop is never blocked.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shared.api.errors import ApiError

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise ``422 weak_password`` for a password too short, too long, or equal to the
    username."""
    if len(password) < MIN_LENGTH:
        raise ApiError(
            422,
            "weak_password",
            f"密码至少需要 {MIN_LENGTH} 个字符",
            f"the password needs at least {MIN_LENGTH} characters",
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise ApiError(
            422,
            "weak_password",
            f"密码不能超过 {MAX_LENGTH} 个字符",
            f"the password may have at most {MAX_LENGTH} characters",
            field="password",
        )
    if username is not None and password.strip().casefold() == username.strip().casefold():
        raise ApiError(
            422,
            "weak_password",
            "密码不能与用户名相同",
            "the password must differ from the username",
            field="password",
        )


def hash_password(password: str, *, username: str | None = None) -> str:
    """The argon2id hash of a password that passes the policy."""
    check_password_policy(password, username=username)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; argon2 compares in constant time. A malformed hash is
    a mismatch, never an exception."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_and_update(password_hash: str, password: str) -> tuple[bool, str | None]:
    """``(matches, new_hash)``: ``new_hash`` is set when the password matched and the stored
    hash was made with weaker parameters than today's, so the caller stores it."""
    if not verify_password(password_hash, password):
        return False, None
    if _hasher.check_needs_rehash(password_hash):
        return True, _hasher.hash(password)
    return True, None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("minsheng-dummy-password")


def burn_verification(password: str) -> None:
    """Spend the time of one verification, for unknown usernames: the answer time must not
    tell whether an account exists."""
    verify_password(_dummy_hash(), password)
