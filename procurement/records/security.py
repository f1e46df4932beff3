"""Password hashing with scrypt (memory-hard, in the standard library).

A stored hash is self-describing, `scrypt$<n>$<r>$<p>$<salt b64>$<key b64>`, so the cost can be
raised later without breaking existing accounts. Clear-text passwords are never stored or logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

#: CPU/memory cost: n=2**14, r=8 uses 16 MiB per hash (OWASP's scrypt minimum is n=2**17 at
#: r=8, p=1 for 128 MiB; 16 MiB keeps sign-in fast on 2-core machines with many sessions).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_KEY_LEN = 32
_SALT_LEN = 16
#: Passwords shorter than this are refused when an account is created or changed.
MIN_PASSWORD_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_KEY_LEN,
        maxmem=256 * n * r + 1024 * 1024,
    )


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`, in the self-describing format above."""
    salt = secrets.token_bytes(_SALT_LEN)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; False (never an exception) for a malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def dummy_verify(password: str) -> None:
    """Spend the same time as a real check, so an unknown username is not revealed by timing."""
    _derive(password, b"\0" * _SALT_LEN, SCRYPT_N, SCRYPT_R, SCRYPT_P)
