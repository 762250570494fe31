"""A compiled statement's literal text values (status == "active") are written into its SQL on
SQLite, where a bound one compared with a partial index's condition made SQLite prepare the
statement again at every execution. The rows it reads and writes stay the same."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, create_engine, insert, select, update

from gateway.store import tables as t
from gateway.store.prepared import Prepared

S = t.starts
KEY = dict(law="wmo", gemeente="0363", aanbieder="12345678", client_key="k")


def _engine(tmp_path):  # noqa: ANN001, ANN202
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    t.metadata.create_all(engine, tables=[S])  # (foreign keys are off: no message rows needed)
    with engine.begin() as conn:
        for n, status in enumerate(("active", "deleted", "active")):
            conn.execute(insert(S).values(message_id="m", toewijzingnummer=str(n), begindatum=date(2026, 1, 1),
                                          status=status, actual=status == "active", **KEY))
    return engine


def _sql(stmt, engine) -> str:  # noqa: ANN001
    prepared = Prepared(stmt)
    return prepared._get(engine.dialect, None).sql


def test_a_literal_text_value_is_in_the_sql_and_finds_the_same_rows(tmp_path) -> None:  # noqa: ANN001
    engine = _engine(tmp_path)
    stmt = select(S.c.toewijzingnummer).where(S.c.law == "wmo", S.c.status == "active").order_by(S.c.id)
    assert "'active'" in _sql(stmt, engine)
    with engine.connect() as conn:
        core = [r.toewijzingnummer for r in conn.execute(stmt)]
        ours = [r["toewijzingnummer"] for r in Prepared(stmt).rows(conn, {})]
    assert ours == core == ["0", "2"]


def test_a_parameter_stays_bound_and_an_odd_literal_too(tmp_path) -> None:  # noqa: ANN001
    engine = _engine(tmp_path)
    given = select(S.c.id).where(S.c.status == bindparam("status"))
    assert "'" not in _sql(given, engine)
    odd = select(S.c.id).where(S.c.status == "it's")  # not written into SQL text: stays bound
    assert "it's" not in _sql(odd, engine) and "?" in _sql(odd, engine)


def test_an_update_with_literals_changes_the_same_rows(tmp_path) -> None:  # noqa: ANN001
    engine = _engine(tmp_path)
    stmt = update(S).where(S.c.law == bindparam("law"), S.c.status == "active").values(status="deleted")
    assert "status='deleted'" in _sql(stmt, engine).replace(" ", "")
    with engine.begin() as conn:
        assert Prepared(stmt).execute(conn, {"law": "wmo"}) == 2
    with engine.connect() as conn:
        assert sorted(r.status for r in conn.execute(select(S.c.status))) == ["deleted"] * 3


def test_a_json_value_is_converted_as_core_converts_it(tmp_path) -> None:  # noqa: ANN001
    """An empty list has a shortcut (gateway.store.prepared._empty_list_once): the same text as Core's."""
    from gateway.store.prepared import _empty_list_once

    engine = create_engine(f"sqlite:///{tmp_path / 'j.sqlite'}")
    column = t.messages.c.issues
    core = column.type._cached_bind_processor(engine.dialect)
    ours = _empty_list_once(core, column.type)
    assert ours is not core
    for value in ([], [{"rule": "TR001", "text": "é"}], ["a"], {}, None, [[]]):
        assert ours(value) == core(value)
    assert _empty_list_once(core, t.messages.c.sender.type) is core  # not JSON: as it was
