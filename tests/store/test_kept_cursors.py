"""PostgreSQL: the store's statements run on psycopg cursors kept per connection and statement. A
statement gets back the cursor it ran on (its transformer, with the dumpers and loaders found for
it, kept), its rows are its own whatever ran in between, and the statements whose cursors are kept
are bounded per connection."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, create_engine, select

from gateway.store import prepared
from gateway.store.engine import make_engine
from gateway.store.prepared import Prepared, pipelined

META = MetaData()
T = Table("kept_cursor_rows", META, Column("a", Integer), Column("b", Text))
INSERT = Prepared(T.insert())
BY_A = Prepared(select(T.c.b).where(T.c.a == bindparam("a")))
COUNT = Prepared(select(T.c.a).where(T.c.b == bindparam("b")))


def _kept(conn):  # noqa: ANN001, ANN202
    return getattr(conn.connection.driver_connection, prepared._KEPT)


def test_a_statement_gets_back_its_own_cursor_and_its_own_rows(pg_url) -> None:  # noqa: ANN001
    engine = make_engine(pg_url)
    try:
        META.create_all(engine)
        with engine.begin() as conn:
            INSERT.executemany(conn, [{"a": 1, "b": "one"}, {"a": 2, "b": "two"}])
            assert BY_A.rows(conn, {"a": 1}) == [{"b": "one"}]
            writers, readers = _kept(conn)
            (reader,) = readers[BY_A._get(conn.dialect, None).query]
            transformer = reader._tx
            with pipelined(conn):  # two queries of the same statement in flight: two cursors
                first, second = BY_A.send(conn, {"a": 2}), BY_A.send(conn, {"a": 1})
                INSERT.execute(conn, {"a": 3, "b": "three"})  # a write between them, on its own cursor
            assert first is reader and second is not reader
            assert BY_A.collect(conn, first) == [{"b": "two"}]
            assert BY_A.collect(conn, second) == [{"b": "one"}]
            assert COUNT.rows(conn, {"b": "two"}) == [{"a": 2}]  # another statement: another cursor
            assert BY_A.rows(conn, {"a": 2}) == [{"b": "two"}]
            assert reader._tx is transformer  # run again on the same statement: kept
            assert BY_A.rows(conn, {"a": 3}) == [{"b": "three"}]
            assert all(not c.closed for kept in (*writers.values(), *readers.values()) for c in kept)
    finally:
        engine.dispose()


def test_the_statements_whose_cursors_are_kept_are_bounded(pg_url, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(prepared, "_KEPT_QUERIES", 3)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        META.create_all(engine)
        with engine.begin() as conn:
            for n in range(7):  # seven statements, each its own text
                stmt = Prepared(select(T.c.b.label(f"b{n}")).where(T.c.a == bindparam("a")))
                assert stmt.rows(conn, {"a": n}) == []
                assert len(_kept(conn)[1]) <= 3
    finally:
        engine.dispose()
