"""The gateway's one clock: every part of the product asks it for the time, and tests set it.

`now()` is an aware UTC datetime, `today()` the Dutch calendar date (the standard's dates are
local dates without a time zone). `GATEWAY_CLOCK` (an ISO date or datetime) fixes the clock of a
whole process, so a test can fix it for a gateway it starts as a subprocess too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from time import time as system_seconds
from zoneinfo import ZoneInfo

NL = ZoneInfo("Europe/Amsterdam")

# (fixed instant, system instant when it was fixed): a fixed clock still runs, from the fixed
# instant on, so durations and session expiry keep working under a test's date.
_fixed: tuple[datetime, datetime] | None = None


def _parse(value: date | datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if not isinstance(value, datetime):
        # A bare date means mid-morning in the Netherlands: far from both midnights.
        value = datetime.combine(value, time(10, 0), NL)
    if value.tzinfo is None:
        value = value.replace(tzinfo=NL)
    return value.astimezone(UTC)


def set_clock(value: date | datetime | str | None) -> None:
    """Fix the clock at `value` (it runs on from there); None gives back the system clock."""
    global _fixed
    _fixed = None if value is None else (_parse(value), datetime.now(UTC))


def _on_clock(system: datetime) -> datetime:
    """The clock's instant at the system instant `system`."""
    if _fixed is None:
        return system
    at, since = _fixed
    return at + (system - since)


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return _on_clock(datetime.now(UTC))


# today() is asked once per message, and working it out costs as much as a small rule: the date
# is kept with the system seconds its Dutch day spans, for the fixed clock it was worked out under
# (a system clock set back or forward leaves the span, so the date is worked out again).
# (fixed clock or None, system seconds from, until, the date)
_today: tuple[tuple[datetime, datetime] | None, float, float, date] | None = None


def today() -> date:
    """Today's date in the Netherlands."""
    global _today
    seconds = system_seconds()
    memo = _today
    if memo is not None and memo[0] is _fixed and memo[1] <= seconds < memo[2]:
        return memo[3]
    instant = _on_clock(datetime.fromtimestamp(seconds, UTC))
    day = instant.astimezone(NL).date()
    # instants in UTC: a difference of two Dutch wall times would miss a DST change in between
    began = datetime.combine(day, time(0), NL).astimezone(UTC)
    ends = datetime.combine(day + timedelta(days=1), time(0), NL).astimezone(UTC)
    _today = (_fixed, seconds - (instant - began).total_seconds(), seconds + (ends - instant).total_seconds(), day)
    return day


def timestamp() -> float:
    """Seconds since the epoch, for expiry times (sessions, back-off) and message ids."""
    if _fixed is None:  # the system clock's own seconds: no datetime made and read back (a new id's)
        return system_seconds()
    return now().timestamp()


@contextmanager
def fixed(value: date | datetime | str) -> Iterator[None]:
    """Within the block the clock stands at `value` (and runs on from there)."""
    global _fixed
    before = _fixed
    set_clock(value)
    try:
        yield
    finally:
        _fixed = before


if os.environ.get("GATEWAY_CLOCK"):
    set_clock(os.environ["GATEWAY_CLOCK"])
