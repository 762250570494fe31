"""The SOAP rows of the outbox on both stores (gateway.store.ggk): claimed in order per party and
key, a row in back-off holds back the later rows of its key, a dead letter does not, a lease runs
out; the Kafka publisher's claim never takes them."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from gateway.store import ggk as gstore
from gateway.store import open_store
from gateway.store.records import OutboxRow
from gateway.store.store import SOAP


def _message(store, rows: list[OutboxRow]) -> str:  # noqa: ANN001
    raw = f"<x>{time.monotonic_ns()}</x>".encode()
    return store.save_transport_rejection(
        rows=rows, received_at=datetime.now(UTC), raw=raw, sha256=hashlib.sha256(raw).hexdigest(), mtype=None,
        sender="0599", receiver=None, issues=[], transport="http", received_by="0599", routing_state="pending")


def _row(key: str, n: int) -> OutboxRow:
    return OutboxRow(party="12345678", destination=SOAP, key=key, headers=[("n", str(n).encode())],
                     payload=f"<e>{n}</e>".encode())


def _n(rows) -> list[int]:  # noqa: ANN001
    return [int(dict(r.headers)["n"]) for r in rows]


def test_soap_rows_are_claimed_in_order_and_held_back_behind_a_back_off(store_url):
    store = open_store(store_url, client_key_secret="x")
    try:
        store.add_party("12345678", "aanbieder")
        for n, key in enumerate(["a", "a", "b", "a"]):
            _message(store, [_row(key, n)])
        assert store.claim_outbox(100, 5) == []  # never the Kafka publisher's
        rows = gstore.claim_soap(store, 100, 5)
        assert _n(rows) == [0, 1, 2, 3]
        assert gstore.claim_soap(store, 100, 5) == []  # leased
        # row 0 fails: back-off; 1 and 3 (same key) are released but wait behind it; 2 is delivered
        gstore.retry_later(store, rows[0].id, "soap:Server", 0.5)
        gstore.release(store, [rows[1].id, rows[3].id])
        store.mark_published([rows[2].id])
        assert gstore.claim_soap(store, 100, 5) == []
        time.sleep(0.6)
        again = gstore.claim_soap(store, 100, 5)
        assert _n(again) == [0, 1, 3] and again[0].attempts == 1
        # row 0 refused for good (Fo03): a dead letter, no longer holding back the others
        gstore.refused(store, again[0].id, "Fo03 IB210: unknown")
        gstore.release(store, [again[1].id, again[2].id])
        assert _n(gstore.claim_soap(store, 100, 5)) == [1, 3]
        refused = store.get_message(again[0].message_id)
        assert not refused.dead_letter and refused.routing_state == "delivery_failed"
    finally:
        store.close()


def test_a_lease_that_runs_out_makes_the_row_claimable_again(store_url):
    store = open_store(store_url, client_key_secret="x")
    try:
        store.add_party("12345678", "aanbieder")
        _message(store, [_row("a", 0)])
        assert _n(gstore.claim_soap(store, 10, 0.3)) == [0]
        time.sleep(0.35)
        assert _n(gstore.claim_soap(store, 10, 5)) == [0]
    finally:
        store.close()
