"""The Alembic chain builds exactly the schema of tables.py, on both databases, and is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from gateway.store import open_store
from gateway.store.engine import MIGRATIONS, alembic_config
from gateway.store.tables import metadata


def test_migrations_match_the_tables(store_url):
    store = open_store(store_url, client_key_secret="x")
    try:
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
            assert diff == [], diff
            head = ScriptDirectory.from_config(alembic_config(conn)).get_current_head()
            assert ctx.get_current_revision() == head
        names = set(inspect(store.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= names
        unique = {ix["name"] for ix in inspect(store.engine).get_indexes("starts") if ix["unique"]}
        assert {"uq_starts_active_key", "uq_starts_actual"} <= unique
    finally:
        store.close()


def test_open_twice_is_a_no_op(store_url):
    open_store(store_url, client_key_secret="x").close()
    store = open_store(store_url, client_key_secret="x")
    assert store.count_messages() == 0
    store.close()


def test_one_linear_chain():
    script = ScriptDirectory(str(MIGRATIONS))
    heads = script.get_heads()
    assert len(heads) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'wal.db'}", client_key_secret="x")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_a_database_of_an_older_revision_is_upgraded(store_url):
    from alembic import command

    from gateway.store.engine import make_engine

    engine = make_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    engine.dispose()
    store = open_store(store_url, client_key_secret="x")
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []
        assert ctx.get_current_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    store.close()
