"""Password hashing: scrypt at the production cost, salted, never the clear text."""

from procurement.records.security import SCRYPT_N, hash_password, verify_password


def test_hash_verifies_only_the_right_password():
    stored = hash_password("パスワード-123")
    assert verify_password("パスワード-123", stored)
    assert not verify_password("パスワード-124", stored)


def test_hash_is_salted_self_describing_and_without_the_clear_text():
    a, b = hash_password("same password"), hash_password("same password")
    assert a != b
    scheme, n, r, p, _salt, _key = a.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, 8, 1)
    assert SCRYPT_N >= 2**14
    assert "same password" not in a


def test_malformed_hash_is_a_mismatch_not_an_error():
    for stored in ("", "plain", "bcrypt$x", "scrypt$a$b$c$d$e"):
        assert not verify_password("x", stored)
