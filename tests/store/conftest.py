"""Store test helpers: a store on both databases and `send`, which runs a message through the
ingest transaction (cross-message and external rules, store, state) as the gateway does."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from gateway.catalog import by_namespace
from gateway.store import open_store
from gateway.store.ingest import IngestResult, ingest

SECRET = "store-tests-secret"


@pytest.fixture
def store(store_url):
    s = open_store(store_url, client_key_secret=SECRET)
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
    return ingest(store, raw, root, mtype, today=today or date.today(), **kw)


def codes(result: IngestResult) -> set[str]:
    return result.codes
