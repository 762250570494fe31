"""The n log n stacking search (TR302, TR386, TR410) agrees with the rule's pairwise definition."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from validators.common import OPEN_END, WMO_OVERLAP_CATEGORIES, Period, stacked

BASE = date(2026, 1, 1)


def same_product(a: Period, b: Period, wmo: bool) -> bool:
    """The rule text, literally: code level, else category level, else any product."""
    if wmo and (a.category in WMO_OVERLAP_CATEGORIES or b.category in WMO_OVERLAP_CATEGORIES):
        return False
    if a.category is None or b.category is None:
        return True
    if a.category != b.category:
        return False
    if a.code is None or b.code is None:
        return True
    return a.code == b.code


def overlap(a: Period, b: Period) -> bool:
    return a.start <= b.end and b.start <= a.end


def pairwise(periods: list[Period], wmo: bool) -> set[int]:
    return {
        i
        for i, a in enumerate(periods)
        for j, b in enumerate(periods)
        if i != j and same_product(a, b, wmo) and overlap(a, b)
    }


period_args = st.tuples(
    st.sampled_from([None, "02", "12", "45"]),  # none, ordinary, iWmo hulpmiddel, another
    st.sampled_from([None, "A", "B"]),
    st.integers(0, 60),
    st.one_of(st.none(), st.integers(0, 30)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(period_args, max_size=12), st.booleans())
def test_tr302_tr386_tr410_stacking_matches_pairwise_definition(items, wmo):
    periods = []
    for category, code, start, length in items:
        begin = BASE + timedelta(days=start)
        periods.append(
            Period(
                el=etree.Element("P"),
                category=category,
                code=None if category is None else code,
                start=begin,
                end=OPEN_END if length is None else begin + timedelta(days=length),
            )
        )
    found = {id(p.el) for p, _why in stacked(periods, wmo=wmo)}
    expected = {id(periods[i].el) for i in pairwise(periods, wmo)}
    assert found == expected
