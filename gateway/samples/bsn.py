"""Fictitious BSNs for test data: the 9999xxxxx test range, every one passing the elfproef (CS002)."""

from __future__ import annotations

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def elfproef(bsn: str) -> bool:
    """True when `bsn` is nine digits whose weighted sum (9..2, -1) is divisible by 11 (CS002)."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit():
        return False
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, bsn, strict=True))
    return total % 11 == 0 and total != 0


def _test_range() -> tuple[str, ...]:
    # 999900006..999999990 is the range the standard names for test environments (digest §7.1).
    return tuple(s for s in (str(n) for n in range(999_900_000, 1_000_000_000)) if elfproef(s))


BSNS: tuple[str, ...] = _test_range()
