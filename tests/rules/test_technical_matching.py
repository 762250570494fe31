"""The matching helpers of the pairwise TR checks (TR315, TR316, TR383, TR416)."""

from __future__ import annotations

import itertools
import random

from validators.rulesets.technical_matching import Earlier, normalize_space


def test_normalize_space_is_xpaths():
    assert normalize_space(None) == "" and normalize_space("") == ""
    assert normalize_space("A1") == "A1"
    assert normalize_space(" \tA \r\n  1\n") == "A 1"
    # only XML whitespace: a no-break space is a character like any other
    assert normalize_space("\u00a0A") == "\u00a0A"


def test_earlier_names_exactly_the_union_of_the_pairwise_matches():
    """Against the official pairwise definition: every later item matching an earlier one (same
    key) is a pair; the union of the pairs is what our findings list, each item named once
    besides the first of its key."""
    rng = random.Random(3)
    for _ in range(200):
        keys = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        pairwise = {i for i, j in itertools.combinations(range(len(keys)), 2) if keys[i] == keys[j]}
        pairwise |= {j for i, j in itertools.combinations(range(len(keys)), 2) if keys[i] == keys[j]}
        earlier, named, listed = Earlier(), set(), []
        for j, key in enumerate(keys):
            matched = earlier.match(key)
            if matched:
                named.update(matched)
                named.add(j)
                listed.extend(matched[1:])
            earlier.add(key, j, named=bool(matched))
        assert named == pairwise
        assert len(listed) == len(set(listed))  # linear: nobody listed twice besides the firsts
