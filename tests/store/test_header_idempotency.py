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
