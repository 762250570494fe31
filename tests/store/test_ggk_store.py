"""The SOAP rows of the outbox on both stores (gateway.store.ggk): claimed in order per party and
key, a row in back-off holds back the later rows of its key, a dead letter does not, a lease runs
out; the Kafka publisher's claim never takes them."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import pytest

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


def _envelope_row(zender: str, referentienummer: str) -> dict:
    return dict(berichtcode="Di01", zender=zender, referentienummer=referentienummer,
                envelope=b"<e/>", envelope_sha256="0" * 64)


def _enveloped(store, zender: str, referentienummer: str) -> str:  # noqa: ANN001
    raw = f"<x>{time.monotonic_ns()}</x>".encode()
    return store.save_transport_rejection(
        rows=[], received_at=datetime.now(UTC), raw=raw, sha256=hashlib.sha256(raw).hexdigest(), mtype=None,
        sender=zender, receiver=None, issues=[], transport="http", received_by=zender,
        envelope=_envelope_row(zender, referentienummer))


def test_a_reference_is_unique_per_zender_and_a_further_envelopes_is_found(store_url):
    """IB216 in the store: the unique index refuses a message whose envelope takes a reference
    another message's envelope has (ConflictError, nothing stored); another zender's is its own.
    A reference a further envelope (envelope_repeats) took is what Transaction.repeat_took finds,
    for the pipeline to answer IB216 (no trigger on messages: revision 0016)."""
    from sqlalchemy import insert

    from gateway.store import tables as t
    from gateway.store.store import ConflictError, Transaction

    store = open_store(store_url, client_key_secret="x")
    try:
        first = _message(store, [])
        ref = "8f0d5c1e-6a7b-4c2d-9e8f-0a1b2c3d4e5f"
        with store._conn() as conn:
            conn.execute(insert(t.envelope_repeats).values(
                message_id=first, **_envelope_row("0599", ref), received_at=datetime.now(UTC)))
            tx = Transaction(store, conn)
            assert tx.repeat_took("0599", ref)
            assert not tx.repeat_took("1234", ref) and not tx.repeat_took("0599", "other")
        before = store.count_messages()
        second = _enveloped(store, "0599", "other")
        third = _enveloped(store, "1234", ref)  # the same reference of another zender is its own
        with pytest.raises(ConflictError):  # the unique index refuses a reference used here
            _enveloped(store, "1234", ref)
        assert store.get_envelope(second)["referentienummer"] == "other"
        assert store.get_envelope(third)["zender"] == "1234"
        assert store.get_envelope(first) is None
        assert store.find_envelope("1234", ref)["message_id"] == third
        assert store.count_messages() == before + 2
    finally:
        store.close()


def test_the_duplicate_check_of_an_enveloped_message_asks_for_a_further_envelope_at_once(store_url):
    """Transaction.find_same_or_repeat answers in one statement what find_same_message and
    repeat_took answer apart: the earlier delivery of these bytes (with them), or None, and
    whether a further envelope took the reference."""
    from sqlalchemy import insert

    from gateway.catalog import by_code
    from gateway.store import tables as t
    from gateway.store.store import Transaction

    store = open_store(store_url, client_key_secret="x")
    try:
        raw = f"<x>{time.monotonic_ns()}</x>".encode()
        sha = hashlib.sha256(raw).hexdigest()
        ident = f"I{time.monotonic_ns()}"
        with store._conn() as conn:
            tx = Transaction(store, conn)
            first = tx.save_message(raw=raw, sha256=sha, verdict="accepted", mtype=by_code("JW301"), sender="0599",
                                    receiver="1234",
                                    identificatie=ident, received_at=datetime.now(UTC), transport="http",
                                    received_by="0599")
            ref = f"r{time.monotonic_ns()}"
            conn.execute(insert(t.envelope_repeats).values(
                message_id=first, **_envelope_row("0599", ref), received_at=datetime.now(UTC)))
        with store._conn() as conn:
            tx = Transaction(store, conn)
            cases = [("0599", "JW301", ident, sha, "0599", ref), ("0599", "JW301", ident, sha, "0599", "other"),
                     ("0599", "JW301", ident, "0" * 64, "1234", ref), ("0599", "JW301", "nope", sha, "0599", ref)]
            for sender, code, identificatie, digest, zender, reference in cases:
                same, took = tx.find_same_or_repeat(sender, code, identificatie, digest, zender, reference)
                alone = tx.find_same_message(sender, code, identificatie, digest)
                assert (same.model_dump() if same else None) == (alone.model_dump() if alone else None)
                assert took is tx.repeat_took(zender, reference)
            found, took = tx.find_same_or_repeat("0599", "JW301", ident, sha, "0599", ref)
            assert found.id == first and found.raw == raw and took is True
            assert tx.find_same_or_repeat("0599", "JW301", "nope", sha, "0599", "other") == (None, False)
            assert tx.find_same_or_repeat(None, "JW301", ident, sha, "0599", ref)[1] is None  # not asked
    finally:
        store.close()
