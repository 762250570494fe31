"""Pseudonymous client keys: the store never holds a BSN in clear.

`client_key` is HMAC-SHA256(secret, BSN), hex. It links the messages and state of one client
without revealing the BSN; without the secret a 9-digit BSN cannot be recovered by trying all
of them. The secret comes from `open_store(..., client_key_secret=)`, else the environment
variable GATEWAY_HMAC_SECRET (the service setting of the same name). Changing it breaks the link with stored state, so it is part of
the deployment's keys, like a database password.

`mask_bsn` is what the console shows: the last three digits only ("******782").
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from typing import Any

ENV_SECRET = "GATEWAY_HMAC_SECRET"
# Only for development and tests; a deployment must set its own (the service settings do).
DEV_SECRET = "gateway-development-client-key-secret-not-for-production"


def resolve_secret(secret: str | bytes | None) -> bytes:
    if secret is None:
        secret = os.environ.get(ENV_SECRET)
    if not secret:
        warnings.warn(
            f"{ENV_SECRET} not set: using the development client-key secret", stacklevel=3
        )
        secret = DEV_SECRET
    return secret.encode() if isinstance(secret, str) else secret


def client_key(secret: bytes, bsn: str | None) -> str:
    """The pseudonym of a BSN (empty BSN -> empty key)."""
    if not bsn:
        return ""
    return _keyed(secret, bsn)


# The keys of the last few BSNs: one message asks for its client's key five to seven times (its
# correlation, its row, the group's lookups, the rules, its state), each an HMAC. Bounded, and
# only what the message in hand holds anyway (the store keeps the message itself, BSN and all).
@functools.lru_cache(maxsize=256)
def _keyed(secret: bytes, bsn: str) -> str:
    return hmac_sha256(secret, bsn.strip().encode()).hex()


def hmac_sha256(secret: bytes, data: bytes) -> bytes:
    """hmac.digest(secret, data, "sha256") (RFC 2104), from the secret's inner and outer hashes
    made once: OpenSSL 3's one-shot HMAC fetches its algorithms again at every call, some 1.5 us
    (twice per message: its client key, its partition key), where two copies cost 0.6."""
    inner, outer = _pads(secret)
    h = inner.copy()
    h.update(data)
    o = outer.copy()
    o.update(h.digest())
    return o.digest()


_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


@functools.lru_cache(maxsize=8)
def _pads(secret: bytes) -> tuple[Any, Any]:
    """SHA-256 after the block of the key XOR ipad, and after that of the key XOR opad."""
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    key = key.ljust(64, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def mask_bsn(bsn: str | None) -> str | None:
    if not bsn:
        return None
    bsn = bsn.strip()
    return "*" * max(len(bsn) - 3, 0) + bsn[-3:]
