"""The faster bind processors (gateway.store.binds) give exactly what SQLAlchemy's give: SQLite's
DATETIME and DATE text, JSON text; other values, types and storage formats keep Core's processor.
And message ids are encoded as before (26 Crockford base32 characters of time, then randomness)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, LargeBinary, create_engine, insert
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


def test_sqlite_binary_values_are_bound_as_the_same_bytes() -> None:
    dialect = create_engine("sqlite://").dialect  # (Core's binary processor needs the loaded sqlite3)
    core, fast = _pair(LargeBinary(), dialect)
    assert core is not None and fast is not core
    for value in (b"", b"\x00\xff<a/>", bytearray(b"ab"), memoryview(b"cd"), None):
        assert fast(value) == core(value)
    assert fast(b"x").__class__ is bytes  # (sqlite3 binds bytes as it binds Core's memoryview: a blob)
    core_pg, fast_pg = _pair(LargeBinary(), postgresql.dialect())
    assert fast_pg is core_pg


def _samples(type_):  # noqa: ANN001, ANN202
    """Values of several classes for a column of `type_` (the usual one first), None last."""
    if isinstance(type_, DateTime):
        return [datetime(2026, 3, 4, 5, 6, 7, 89), datetime(2026, 3, 4, tzinfo=UTC), date(2026, 1, 2), None]
    if isinstance(type_, Date):
        return [date(2026, 1, 2), datetime(2026, 3, 4, 5, 6), None]
    if isinstance(type_, JSON):
        return [[], [["a", "é"]], {"b": 1}, "tekst", 3, None]
    if isinstance(type_, LargeBinary):
        return [b"<x/>", bytearray(b"y"), memoryview(b"z"), None]
    if isinstance(type_, Boolean):
        return [True, False, None]
    if isinstance(type_, Integer):
        return [7, None]
    return ["tekst", None]


def test_each_statements_parameters_are_what_cores_processors_make() -> None:
    """Prepared's parameter function of each table's insert (written per statement: processors'
    usual values converted in place) gives what Core's processors give, for values of every class,
    a value converted already (Processed) and a parameter not given."""
    from gateway.store import tables as t
    from gateway.store.prepared import Prepared, Processed

    dialect = create_engine("sqlite://").dialect
    for table in t.metadata.sorted_tables:
        keys = tuple(sorted(c.key for c in table.columns))
        c = Prepared(insert(table))._get(dialect, keys)
        core = {name: table.c[name].type._cached_bind_processor(dialect) for name in c.names}
        rnd = random.Random(table.name)
        for round_ in range(30):
            row = {}
            for name in c.names:
                row[name] = rnd.choice(_samples(table.c[name].type)) if round_ else _samples(table.c[name].type)[0]
            converted = [name for name in c.names if core[name] is not None]
            if round_ % 5 == 4 and converted:  # (Prepared.processed: only for a column with a processor)
                row[converted[-1]] = Processed("as it is")
            if round_ % 7 == 6:
                del row[c.names[0]]  # not given: None
            expected = []
            for name in c.names:
                value = row.get(name)
                if value.__class__ is Processed:
                    expected.append(value.value)
                else:
                    expected.append(core[name](value) if core[name] is not None and value is not None else value)
            got = c.params(row)
            assert got.__class__ is tuple and len(got) == len(expected), table.name
            assert list(got) == expected, (table.name, row)
            remembered = c.dates_remembered()
            assert list(remembered.params(row)) == expected, table.name
