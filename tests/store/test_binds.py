"""The faster bind processors (gateway.store.binds) give exactly what SQLAlchemy's give: SQLite's
DATETIME and DATE text, JSON text; other values, types and storage formats keep Core's processor.
And message ids are encoded as before (26 Crockford base32 characters of time, then randomness)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import JSON, Date, DateTime, Integer
from sqlalchemy.dialects import postgresql, sqlite

from gateway.store import binds
from gateway.store.ids import _ALPHABET, _ulid

SQLITE = sqlite.dialect()


def _pair(type_, dialect=SQLITE):  # noqa: ANN001, ANN202
    core = type_._cached_bind_processor(dialect)
    return core, binds.faster(core, type_, dialect, json.dumps)


def test_sqlite_datetimes_and_dates_are_written_as_core_writes_them() -> None:
    rnd = random.Random(7)
    for type_ in (DateTime(), DateTime(timezone=True)):
        core, fast = _pair(type_)
        assert fast is not core
        for _ in range(2000):
            value = datetime(1, 1, 1) + timedelta(microseconds=rnd.randrange(10**17))
            for tz in (None, UTC, timezone(timedelta(hours=-5))):
                v = value.replace(tzinfo=tz)
                assert fast(v) == core(v)
            assert fast(v.date()) == core(v.date())  # a date given for a datetime: Core's processor
    core, fast = _pair(Date())
    assert fast is not core
    for _ in range(2000):
        day = date(1, 1, 1) + timedelta(days=rnd.randrange(3_000_000))
        assert fast(day) == core(day)
        at = datetime(day.year, day.month, day.day, 5, 6, 7)
        assert fast(at) == core(at)  # a datetime given for a date: Core's processor (the date part)


def test_json_is_written_as_core_writes_it() -> None:
    core, fast = _pair(JSON())
    assert fast is not core
    for value in ([], {}, [["message-id", "01J"], ["x", "é\u2028\"\\\n"]], {"a": [1, -2.5, None, True, {"b": "c"}]},
                  "tekst", 5, [float("nan")]):
        assert fast(value) == core(value)
    assert binds.faster(core, JSON(), SQLITE, lambda v: json.dumps(v, sort_keys=True)) is core  # an engine's own


def test_other_types_formats_and_databases_keep_cores_processor() -> None:
    for type_, dialect in ((DateTime(), postgresql.dialect()), (Integer(), SQLITE),
                           (sqlite.DATETIME(storage_format="%(year)04d/%(month)02d/%(day)02d"), SQLITE),
                           (sqlite.DATE(storage_format="%(day)02d.%(month)02d.%(year)04d"), SQLITE)):
        core, fast = _pair(type_, dialect)
        assert fast is core


def test_message_ids_are_encoded_as_before() -> None:
    def before(value: int, length: int) -> str:  # the encoding ids.py had, digit by digit
        out = []
        for _ in range(length):
            out.append(_ALPHABET[value & 31])
            value >>= 5
        return "".join(reversed(out))

    rnd = random.Random(3)
    for ms, rand in [(0, 0), ((1 << 48) - 1, (1 << 80) - 1)] + [
            (rnd.getrandbits(48), rnd.getrandbits(80)) for _ in range(5000)]:
        assert _ulid(ms, rand) == before(ms, 10) + before(rand, 16)
