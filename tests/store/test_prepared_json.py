"""A JSON parameter of a compiled statement is sent as its text on PostgreSQL (the statement's
::JSON cast makes it JSON) instead of wrapped for psycopg's dumper: the stored values are the same
as Core's, for an empty list, a nested value and a string; None is SQL NULL (as Prepared always
bound it: never given to a processor)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, MetaData, Table, func, insert, select

from gateway.store.engine import make_engine
from gateway.store.prepared import Prepared

META = MetaData()
T = Table("prepared_json_rows", META, Column("n", Integer), Column("doc", JSON), Column("other", JSON))
VALUES = [[], {"a": [1, "x", None], "b": {"c": 1.5}}, "tekst"]


def test_json_parameters_are_stored_as_core_stores_them(pg_url) -> None:  # noqa: ANN001
    engine = make_engine(pg_url)
    try:
        META.create_all(engine)
        ours = Prepared(T.insert())
        with engine.begin() as conn:
            for n, value in enumerate(VALUES):
                ours.execute(conn, {"n": n, "doc": value, "other": None})
                conn.execute(insert(T).values(n=100 + n, doc=value))
            compiled = ours._get(conn.dialect, ("doc", "n", "other"))
            assert all(proc([]) == "[]" for proc in compiled.processors.values())  # text, not wrapped
        with engine.connect() as conn:
            rows = conn.execute(select(T.c.n, func.json_typeof(T.c.doc), T.c.doc.cast(JSON), T.c.other)
                                .order_by(T.c.n)).all()
        mine, core = rows[:len(VALUES)], rows[len(VALUES):]
        assert [r[1:] for r in mine] == [r[1:] for r in core]
        assert [r[2] for r in mine] == VALUES
        assert [r[1] for r in mine] == ["array", "object", "string"]
    finally:
        engine.dispose()
