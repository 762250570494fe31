"""Working days in the Netherlands: Monday to Friday except the public holidays.

The holidays come from the maintained `holidays` package (Nieuwjaarsdag, Goede Vrijdag, Pasen,
Koningsdag, Bevrijdingsdag, Hemelvaart, Pinksteren, Kerstmis), not from a list of our own.
Bevrijdingsdag is a holiday there only in lustrum years (2025, 2030, ...), as most collective
agreements have it.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _year(year: int) -> frozenset[date]:
    return frozenset(holidays.Netherlands(years=year))


def holiday_name(day: date) -> str | None:
    return holidays.Netherlands(years=day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _year(day.year)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` ("within n working days of start" ends that day)."""
    day = start
    left = n
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
