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


# Two characters per 10 bits: a ULID's 130 bits (26 characters) in 13 lookups instead of 26
# rounds of a Python loop (one id per message).
_PAIRS = [_ALPHABET[i >> 5] + _ALPHABET[i & 31] for i in range(1024)]
_SHIFTS = tuple(range(120, -1, -10))
_TIME_BITS, _RAND_BITS = (1 << 50) - 1, (1 << 80) - 1


def _ulid(ms: int, rand: int) -> str:
    """10 characters of `ms` (its low 50 bits) then 16 of `rand` (its low 80 bits)."""
    value = (ms & _TIME_BITS) << 80 | (rand & _RAND_BITS)
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _SHIFTS])


def new_id(now_ms: int | None = None) -> str:
    global _last
    with _lock:
        ms = now_ms if now_ms is not None else int(clock.timestamp() * 1000)
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1  # same millisecond: keep increasing
        else:
            rand = int.from_bytes(_random(10), "big") >> 1  # room to increment
        _last = (ms, rand)
    return _ulid(ms, rand)


# os.urandom in blocks: a system call per new id cost more than the rest of the id. The bytes are
# the kernel's all the same, each used once; a forked child drops what its parent read (it
# would make the parent's ids again).
_BLOCK = 640
_unread: list[bytes] = []  # [the block's bytes not used yet], under _lock


def _random(n: int) -> bytes:
    """`n` (at most _BLOCK) bytes of os.urandom's (called holding _lock)."""
    if not _unread or len(_unread[0]) < n:
        _unread[:] = [os.urandom(_BLOCK)]
    block = _unread[0]
    _unread[0] = block[n:]
    return block[:n]


def random_bytes(n: int) -> bytes:
    """`n` bytes from the kernel's random source, as os.urandom(n) (n at most 640)."""
    with _lock:
        return _random(n)


os.register_at_fork(after_in_child=_unread.clear)
