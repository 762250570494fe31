"""Partition keys: one client's chain (allocation, start, stop, declaration, 325) on one partition.

The key is a keyed hash (HMAC-SHA256 with the gateway's secret) of the gemeente, the aanbieder and
the BSN, so ordering per client holds without the BSN ever leaving the gateway. Messages without
a BSN (319) or with several clients (a 323 for more clients) use a key of what identifies them
instead (the request reference, the declaration number); their order relative to the client's
chain is then not guaranteed (documented in docs/service.md).
"""

from __future__ import annotations

import functools

from gateway.store.clientkey import hmac_sha256


def keyed(secret: bytes, *parts: str) -> str:
    return _keyed(secret, parts)


# The last few keys: a message and its retour are keyed alike (gateway.routing.plan), two HMACs
# of the same values. Bounded; it holds what the message in hand holds anyway.
@functools.lru_cache(maxsize=256)
def _keyed(secret: bytes, parts: tuple[str, ...]) -> str:
    return hmac_sha256(secret, "\x1f".join(parts).encode()).hex()[:32]


def client_partition_key(secret: bytes, gemeente: str, aanbieder: str, bsn: str) -> str:
    return keyed(secret, "client", gemeente, aanbieder, bsn)


def reference_partition_key(secret: bytes, kind: str, *parts: str) -> str:
    return keyed(secret, kind, *parts)
