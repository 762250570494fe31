"""validators.common.elfproef computes the 11-proef by arithmetic on the ASCII codes: the same
verdict as the textbook sum of weighted digits, for every kind of input."""

from __future__ import annotations

import operator
import random

from validators.common import elfproef

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def textbook(bsn: str) -> bool:
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    return sum(map(operator.mul, WEIGHTS, map(int, bsn))) % 11 == 0


def test_elfproef_agrees_with_the_weighted_digit_sum():
    rnd = random.Random(11)
    cases = [str(rnd.randrange(10**9)).zfill(9) for _ in range(20_000)]
    cases += ["999990019", "123456782", "000000000", "12345678", "1234567890", "12345678a", " 23456782",
              "١٢٣٤٥٦٧٨٢", "１２３４５６７８２", ""]  # Arabic-Indic and full-width digits are digits too
    assert sum(map(textbook, cases)) > 1_000  # the sample holds valid numbers, not only invalid ones
    assert [c for c in cases if elfproef(c) != textbook(c)] == []
