"""CI slice of the differential suite: our rule reports against the official stylesheet's.

A few hundred generated messages of all 21 types (one firing and one near case per rule and type).
Every (code, Locatie) difference must be explained in known_differences.toml: a new difference,
or one an entry no longer explains, fails here. The full corpus and its figures:
`python benchmarks/bench_conformance.py` (benchmarks/results/conformance.md).
"""

from __future__ import annotations

import functools

import pytest

from . import compare, generator

SLICE = {"fire": 1, "near": 1, "tries": 25, "seed": 7, "randoms": 1}


@functools.cache
def _outcome() -> compare.Outcome:
    return compare.run(generator.corpus(**SLICE))


def test_slice_covers_every_type_and_many_rules():
    outcome = _outcome()
    assert len(outcome.per_type) == 21
    assert 200 <= outcome.messages <= 2000
    fired = {rule for rule, tally in outcome.per_rule.items() if tally.agree + tally.official_only}
    assert len(fired) >= 40, sorted(fired)


def test_every_difference_is_known():
    entries = compare.known()
    unexplained = [(d, case) for d, case in _outcome().differences if compare.explain(d, entries) is None]
    if unexplained:
        lines = [f"{d.code} {d.side} {d.rule} {d.locatie}  (case aimed at {c.target})" for d, c in unexplained[:40]]
        pytest.fail(f"{len(unexplained)} differences not in known_differences.toml:\n" + "\n".join(lines))


def test_known_differences_file_is_well_formed():
    for k in compare.known():
        assert k.side in ("missing", "extra", "both"), k
        assert k.reason.strip(), k
        assert k.rule[:2] in ("TR", "CD", "CS") or k.rule in ("XSD", "PARSE", "DETECT"), k
