"""PostgreSQL: a group's inserts (messages, issues, identifiers, outbox rows) go in one statement
(prepared.insert_together): the rows stored are the ones one executemany per insert stored, a row
may refer to one written before it in the same statement, a unique violation still fails the
whole statement (nothing of it stays), and rows beyond its parameter bound go as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON, Column, DateTime, ForeignKey, Integer, LargeBinary, MetaData, String, Table, exc, select,
)

from gateway.store import prepared
from gateway.store.engine import make_engine
from gateway.store.prepared import Prepared, insert_together

META = MetaData()
PARENT = Table("together_parent", META, Column("id", String(8), primary_key=True), Column("doc", JSON),
               Column("at", DateTime(timezone=True)), Column("raw", LargeBinary))
CHILD = Table("together_child", META, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("parent_id", String(8), ForeignKey("together_parent.id"), nullable=False),
              Column("note", String(20)))
INSERT_PARENT, INSERT_CHILD = Prepared(PARENT.insert()), Prepared(CHILD.insert())
AT = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


def _parents(prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{i}", "doc": [["h", f"v{i}"], {"n": i}], "at": AT, "raw": b"\x00%d" % i} for i in range(3)]


def _children(prefix: str, odd: bool = False) -> list[dict]:
    rows = [{"parent_id": f"{prefix}{i}", "note": f"n{i}"} for i in range(3)]
    if odd:  # a row with other columns: the rows go one executemany per insert
        rows.insert(1, {"parent_id": f"{prefix}0"})
    return rows


def _stored(conn, prefix: str) -> tuple[list, list]:  # noqa: ANN001
    parents = conn.execute(select(PARENT.c.doc, PARENT.c.at, PARENT.c.raw).where(PARENT.c.id.startswith(prefix))
                           .order_by(PARENT.c.id)).all()
    children = conn.execute(select(CHILD.c.parent_id, CHILD.c.note).where(CHILD.c.parent_id.startswith(prefix))
                            .order_by(CHILD.c.id)).all()
    return [tuple(p) for p in parents], [(c[0][1:], c[1]) for c in children]


@pytest.fixture
def engine(pg_url):  # noqa: ANN001, ANN201
    engine = make_engine(pg_url)
    META.create_all(engine)
    yield engine
    META.drop_all(engine)
    engine.dispose()


@pytest.mark.parametrize(("bound", "odd", "statements"), [
    (prepared._TOGETHER_MAX, False, 1),
    (prepared._TOGETHER_MAX, True, 3),  # (the odd row's insert its own statement, as executemany sends it)
    (5, False, 2),  # more parameters than one statement takes
])
def test_rows_are_stored_as_one_executemany_per_insert_stores_them(engine, monkeypatch, bound, odd,  # noqa: ANN001
                                                                     statements) -> None:
    monkeypatch.setattr(prepared, "_TOGETHER_MAX", bound)
    with engine.begin() as conn:
        before = prepared.COUNTER["statements"]
        insert_together(conn, ((INSERT_PARENT, _parents("a")), (INSERT_CHILD, []),
                               (INSERT_CHILD, _children("a", odd))))
        sent = prepared.COUNTER["statements"] - before
        INSERT_PARENT.executemany(conn, _parents("b"))
        INSERT_CHILD.executemany(conn, _children("b", odd))
    assert sent == statements
    with engine.connect() as conn:
        together, apart = _stored(conn, "a"), _stored(conn, "b")
    # (children in the order of their serial ids: the order of the rows)
    assert together == apart and len(together[0]) == 3 and len(together[1]) == 3 + odd


def test_a_unique_violation_fails_the_whole_statement(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        INSERT_PARENT.executemany(conn, _parents("c")[:1])
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        insert_together(conn, ((INSERT_PARENT, _parents("c")[1:] + _parents("c")[:1]), (INSERT_CHILD, _children("c"))))
    with engine.connect() as conn:
        assert _stored(conn, "c") == ([(_parents("c")[0]["doc"], AT, b"\x000")], [])


def test_an_insert_with_a_clause_after_its_row_goes_row_by_row(engine) -> None:  # noqa: ANN001
    """ON CONFLICT (or RETURNING) belongs to the statement, not to a row: such an insert is not
    written as one VALUES list (its clause would repeat after each row), it goes as executemany."""
    from sqlalchemy.dialects.postgresql import insert

    quiet = Prepared(insert(PARENT).on_conflict_do_nothing())
    with engine.begin() as conn:
        INSERT_PARENT.executemany(conn, _parents("d")[:1])
        insert_together(conn, ((quiet, _parents("d")), (INSERT_CHILD, _children("d"))))
    with engine.connect() as conn:
        parents, children = _stored(conn, "d")
    assert len(parents) == 3 and children == [(str(i), f"n{i}") for i in range(3)]



def test_the_same_rows_with_and_without_bytes_are_one_prepared_statement(engine) -> None:  # noqa: ANN001
    """psycopg prepares a statement after five runs of the same text and parameter types; a None
    has no type, so a bytea value typed bytea made a group with a retour and one without two
    statements that each ran too seldom to be prepared. The bytes go as of no type (the column's,
    in the server): the same text is one statement, and the bytes stored are the same."""
    with engine.connect() as conn:
        for i in range(6):
            rows = _parents(f"e{i}")
            for row in rows[::2] if i % 2 else rows[1::2]:
                row["raw"] = None
            with conn.begin():
                insert_together(conn, ((INSERT_PARENT, rows), (INSERT_CHILD, _children(f"e{i}"))))
        kept = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
        stored = conn.execute(select(PARENT.c.id, PARENT.c.raw).where(PARENT.c.id.startswith("e"))
                              .order_by(PARENT.c.id)).all()
    assert any("together_parent" in s for s in kept), kept
    assert stored == [(f"e{i}{j}", None if (j % 2 == 0) == bool(i % 2) else b"\x00%d" % j)
                      for i in range(6) for j in range(3)]
