"""Client and partition keys are remembered for the last few BSNs (a message asks for its client's
key several times): the same keys as computed afresh, per secret, also once the memo is full."""

from __future__ import annotations

import hashlib
import hmac

from gateway.routing import partition
from gateway.store import clientkey


def _fresh(secret: bytes, bsn: str) -> str:
    return hmac.new(secret, bsn.strip().encode(), hashlib.sha256).hexdigest()


def test_client_keys_are_the_keys_of_their_secret_and_bsn():
    for _round in range(2):  # the second round from the memo
        for n in range(clientkey._keyed.cache_info().maxsize + 10):  # past the bound: the memo drops the oldest
            bsn = f"{100000000 + n}"
            for secret in (b"one", b"two"):
                assert clientkey.client_key(secret, bsn) == _fresh(secret, bsn)
    assert clientkey.client_key(b"one", " 123456782 ") == _fresh(b"one", "123456782")
    assert clientkey.client_key(b"one", "") == "" and clientkey.client_key(b"one", None) == ""
    info = clientkey._keyed.cache_info()
    assert info.currsize <= info.maxsize == 256


def test_partition_keys_are_the_keys_of_their_secret_and_parts():
    def fresh(secret: bytes, *parts: str) -> str:
        return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]

    for _round in range(2):
        for secret in (b"one", b"two"):
            assert partition.client_partition_key(secret, "0599", "12345678", "123456782") == fresh(
                secret, "client", "0599", "12345678", "123456782")
            # the same texts split differently are other parts: another key
            assert partition.keyed(secret, "a", "bc") == fresh(secret, "a", "bc")
            assert partition.keyed(secret, "ab", "c") == fresh(secret, "ab", "c")


def test_the_keyed_hash_is_hmac_sha256_for_secrets_of_any_length():
    # the inner and outer hashes are made once per secret; a secret longer than SHA-256's block
    # (64 bytes) is hashed first, a shorter one padded (RFC 2104)
    for length in (0, 1, 32, 63, 64, 65, 100, 200):
        secret = bytes((7 * i + 3) % 256 for i in range(length))
        for data in (b"", b"123456782", b"x" * 100):
            assert clientkey.hmac_sha256(secret, data) == hmac.digest(secret, data, "sha256")
