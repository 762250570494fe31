"""Store test helpers: a store on both databases and `send`, which runs a message through the
ingest transaction (cross-message and external rules, store, state) as the gateway does."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from gateway import clock
from gateway.catalog import by_namespace
from gateway.store import open_store
from gateway.store.ingest import IngestResult, ingest
from gateway.store.tables import metadata
from testsupport import services

SECRET = "store-tests-secret"


@pytest.fixture(scope="session")
def _shared_pg():
    """One PostgreSQL database for the store tests, emptied before each test (creating a
    database per test costs most of the suite's time). The migration tests use fresh ones."""
    reason = services.pg_available()
    if reason:
        if services.REQUIRE_SERVICES:
            pytest.fail(f"required service missing: {reason}")
        pytest.skip(reason)
    with services.temporary_pg_database() as url:
        open_store(url, client_key_secret=SECRET).close()
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    """A migrated store on both databases (the `store_url` pair, with a shared PostgreSQL)."""
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'gateway.db'}", client_key_secret=SECRET)
    else:
        s = open_store(request.getfixturevalue("_shared_pg"), client_key_secret=SECRET)
        names = ", ".join(f'"{tbl.name}"' for tbl in metadata.sorted_tables)
        with s.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    try:
        yield s
    finally:
        s.close()


def parse(raw: bytes):
    root = etree.fromstring(raw)
    mtype = by_namespace(etree.QName(root).namespace)
    assert mtype is not None, "sample has an unknown namespace"
    return root, mtype


def send(store, raw: bytes, today: date | None = None, **kw) -> IngestResult:
    root, mtype = parse(raw)
    return ingest(store, raw, root, mtype, today=today or clock.today(), **kw)


def codes(result: IngestResult) -> set[str]:
    return result.codes
