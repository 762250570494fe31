"""The bulk load behind the million-message test drops the loaded tables' secondary indexes and
builds them again: afterwards every index the store's schema defines is back, as defined, and
holds the loaded rows."""

from __future__ import annotations

from console_helpers import open_test_store
from sqlalchemy import text

from benchmarks import loadgen


def test_the_load_leaves_every_index_as_it_found_it(store_url):
    store = open_test_store(store_url)
    try:
        with store.engine.connect() as conn:
            before = loadgen._secondary_indexes(conn)
        assert len(before) >= 10, before  # the schema's own: a wrong query would find none
        loadgen.load(store.engine, loadgen.Plan(rows=2_000, clients=300))
        with store.engine.connect() as conn:
            assert loadgen._secondary_indexes(conn) == before
            # an index built after the load covers the rows: a lookup through it finds them
            if store.engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            indexed = conn.execute(text("SELECT count(*) FROM messages WHERE received_at >= '1900-01-01'")).scalar()
            assert indexed == 2_000
    finally:
        store.close()
