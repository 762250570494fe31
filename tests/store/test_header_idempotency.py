"""TR056 (identificatie unique per sender and type), idempotent redelivery, TR135 (Dagtekening not
in the future) and TR378 (CBS gemeente code), on both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from gateway import clock, samples
from gateway.store import tables as t
from tests.store.conftest import send
from tests.store.test_rules_allocation_regie import fails, ok


def _count(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_same_message_twice_is_recognised_not_processed_twice(store):
    raw = samples.allocation(identificatie="ID-1")
    first = ok(store, raw)
    again = send(store, raw)
    assert again.duplicate and again.message_id == first.message_id and again.verdict == "accepted"
    assert _count(store, t.messages) == 1
    assert _count(store, t.allocations) == 1


def test_duplicate_is_answered_with_the_stored_retour(store):
    raw = samples.allocation(identificatie="ID-R")
    first = send(store, raw, retour=lambda issues: b"<retour>first</retour>")
    assert first.verdict == "accepted"
    with store.transaction() as tx:
        same = tx.find_same_message(samples.GEMEENTE, "JW301", "ID-R", __import__("hashlib").sha256(raw).hexdigest())
    assert same is not None and same.retour == b"<retour>first</retour>" and same.id == first.message_id


def test_rejected_message_redelivered_gets_the_same_verdict(store):
    raw = samples.start()  # no toewijzing: TR019
    first = fails(store, raw, "TR019")
    again = send(store, raw)
    assert again.duplicate and again.verdict == "rejected" and again.message_id == first.message_id
    assert "TR019" in again.codes


def test_tr056_same_identificatie_other_bytes(store):
    ok(store, samples.allocation(identificatie="ID-2"))
    other = samples.Allocated(toewijzingnummer=2002)
    r = fails(store, samples.allocation(identificatie="ID-2", products=(other,)), "TR056")
    assert [(i.retourcode, i.class_path) for i in r.issues] == [("9056", "/Bericht/Header")]
    assert not r.duplicate
    # another sender, or another message type, may use the same identificatie
    ok(store, samples.allocation(identificatie="ID-2", gemeente="0363", products=(other,)))
    ok(store, samples.allocation("iwmo", identificatie="ID-2"))
    # the 9056 message itself is stored (with its verdict) but does not claim the identifier
    assert _count(store, t.message_identifiers) == 3


def test_tr135_dagtekening_not_in_the_future(store):
    tomorrow = clock.today() + timedelta(days=1)
    r = fails(store, samples.allocation(dagtekening=tomorrow), "TR135")
    assert r.issues[0].retourcode == "8848"
    r = send(store, samples.allocation(dagtekening=tomorrow), today=tomorrow)
    assert r.verdict == "accepted"


def test_tr378_gemeente_in_the_cbs_list(store):
    r = fails(store, samples.allocation(gemeente="0001"), "TR378")
    assert [(i.retourcode, i.path) for i in r.issues] == [("S300", "/Bericht/Header/Afzender")]
    r = fails(store, samples.start(gemeente="0001"), "TR378")
    assert any(i.path == "/Bericht/Header/Ontvanger" for i in r.issues)
    ok(store, samples.allocation(gemeente="0363"))


def test_tr378_woonplaatsbeginsel_gemeente(store):
    ok(store, samples.request(products=(samples.Requested(referentie_aanbieder="R9"),)))
    bad = samples.answer(referentie_aanbieder="R9", verzoek_antwoord="1", reden_afwijzing="8", woonplaatsbeginsel="0001")
    r = fails(store, bad, "TR378")
    assert r.issues[0].class_path.endswith("/Woonplaatsbeginsel")
    ok(store, samples.answer(referentie_aanbieder="R9", verzoek_antwoord="1", reden_afwijzing="8", woonplaatsbeginsel="0344"))


def test_the_bare_duplicate_check_finds_what_the_row_query_finds(store):
    """find_same_message asks whether an earlier delivery exists before reading it: it answers as
    the row query alone did (transport rejections and other bytes do not count)."""
    import hashlib
    from datetime import UTC, datetime

    from gateway.catalog import by_code
    from gateway.store.store import _SAME_MESSAGE

    def save(tx, raw: bytes, ident: str, verdict: str) -> str:  # noqa: ANN001
        return tx.save_message(raw=raw, sha256=hashlib.sha256(raw).hexdigest(), verdict=verdict,
                               mtype=by_code("JW301"), sender="0599", receiver="1234", identificatie=ident,
                               received_at=datetime.now(UTC), transport="http", received_by="0599")

    raw, rejected = b"<x>same</x>", b"<x>rejected</x>"
    sha, rejected_sha = hashlib.sha256(raw).hexdigest(), hashlib.sha256(rejected).hexdigest()
    with store.transaction() as tx:
        save(tx, rejected, "ID-T", "transport_rejected")
        first = save(tx, raw, "ID-S", "accepted")
    with store.transaction() as tx:
        cases = [("0599", "ID-S", sha), ("0599", "ID-S", "0" * 64), ("0599", "ID-T", rejected_sha),
                 ("0363", "ID-S", sha), ("0599", "nope", sha)]
        for sender, ident, digest in cases:
            found = tx.find_same_message(sender, "JW301", ident, digest)
            row = _SAME_MESSAGE.first(tx.conn, dict(sender=sender, code="JW301", identificatie=ident, sha256=digest))
            assert (found.id if found else None) == (row["id"] if row else None)
        found = tx.find_same_message("0599", "JW301", "ID-S", sha)
        assert found.id == first and found.raw == raw and found.verdict == "accepted"
        assert tx.find_same_message("0599", "JW301", "ID-T", rejected_sha) is None
