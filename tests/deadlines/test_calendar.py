"""The working-day calendar: weekends and Dutch public holidays from the `holidays` package."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.deadlines import calendar


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 4, 27), False),  # Koningsdag (Monday)
        (date(2025, 4, 26), False),  # Koningsdag on Saturday 2025 (moved to the 26th)
        (date(2026, 12, 25), False),  # Eerste Kerstdag
        (date(2026, 12, 26), False),  # Tweede Kerstdag (Saturday anyway)
        (date(2027, 12, 27), True),  # the Monday after a Christmas weekend is no holiday
        (date(2026, 1, 1), False),  # Nieuwjaarsdag
        (date(2026, 5, 14), False),  # Hemelvaartsdag
        (date(2026, 5, 25), False),  # Tweede Pinksterdag
        (date(2026, 4, 6), False),  # Tweede Paasdag
        (date(2025, 5, 5), False),  # Bevrijdingsdag in a lustrum year
        (date(2026, 5, 5), True),  # ... and not in other years
        (date(2026, 3, 7), False),  # a Saturday
        (date(2026, 3, 9), True),  # a plain Monday
    ],
)
def test_working_days(day, working):
    assert calendar.is_working_day(day) is working


@pytest.mark.parametrize(
    "start, n, end",
    [
        (date(2026, 4, 24), 3, date(2026, 4, 30)),  # Friday, over the weekend and Koningsdag
        (date(2026, 12, 23), 3, date(2026, 12, 29)),  # over Christmas and a weekend
        (date(2026, 12, 24), 5, date(2027, 1, 4)),  # Christmas, Nieuwjaarsdag, two weekends
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # Nieuwjaarsdag, then a weekend
        (date(2026, 3, 9), 10, date(2026, 3, 23)),  # two plain weeks
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # from a Saturday
    ],
)
def test_add_working_days(start, n, end):
    assert calendar.add_working_days(start, n) == end
    assert calendar.working_days_between(start, end) == n


def test_holiday_names_come_from_the_library():
    assert calendar.holiday_name(date(2026, 4, 27)) is not None
    assert calendar.holiday_name(date(2026, 4, 28)) is None
