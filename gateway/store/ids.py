"""Sortable message ids: 26-character ULIDs (48-bit millisecond time + 80 random bits).

Sorting the strings sorts by creation time, which keyset pagination on (received_at, id) and
the console rely on. Within one process ids are strictly increasing even within a millisecond.
"""

from __future__ import annotations

import os
import threading

from gateway import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_lock = threading.Lock()
_last = (0, 0)


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(now_ms: int | None = None) -> str:
    global _last
    with _lock:
        ms = now_ms if now_ms is not None else int(clock.timestamp() * 1000)
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1  # same millisecond: keep increasing
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # room to increment
        _last = (ms, rand)
    return _encode(ms, 10) + _encode(rand, 16)
