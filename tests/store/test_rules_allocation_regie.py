"""Cross-message rules of 301 (TR332, TR379, TR385) and 305/307 (TR019, TR063, TR071, TR074,
TR326, TR382, TR413-TR415): for each, a sequence that keeps it and one that breaks it, on both
stores. Messages go through the ingest transaction, so state builds up as in the gateway."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway import samples
from gateway.samples import (
    BSNS,
    Allocated,
    Prestatie,
    Started,
    Stopped,
    allocation_start,
)
from tests.store.conftest import send

A, B = BSNS[0], BSNS[1]


def ok(store, raw):
    r = send(store, raw)
    assert r.verdict == "accepted", r.issues
    return r


def fails(store, raw, code):
    r = send(store, raw)
    assert r.verdict == "rejected", r.issues
    assert code in r.codes, r.issues
    return r


# --- 301 --------------------------------------------------------------------------------------


def test_tr332_number_unique_per_gemeente_and_domain(store):
    ok(store, samples.allocation("ijw", bsn=A))
    ok(store, samples.allocation("ijw", bsn=A))  # a resend of the same toewijzing keeps its number
    ok(store, samples.allocation("iwmo", bsn=B))  # another legal domain: the number is free there
    ok(store, samples.allocation("ijw", bsn=B, gemeente="0363", products=(Allocated(),)))  # other gemeente
    r = fails(store, samples.allocation("ijw", bsn=B), "TR332")
    assert r.issues[0].retourcode == "9332"
    assert r.issues[0].class_path.endswith("/ToegewezenProduct")


def test_tr379_referentie_only_for_a_request_and_only_once(store):
    fails(store, samples.allocation(products=(Allocated(referentie_aanbieder="NOREQUEST"),)), "TR379")
    ok(store, samples.request(products=(samples.Requested(referentie_aanbieder="VOT-7"),)))
    ok(store, samples.allocation(products=(Allocated(referentie_aanbieder="VOT-7"),)))
    # a later 301 for the same toewijzing leaves ReferentieAanbieder empty
    fails(store, samples.allocation(products=(Allocated(referentie_aanbieder="VOT-7"),)), "TR379")
    ok(store, samples.allocation())


def test_tr385_no_delete_of_a_declared_toewijzing(store):
    start = allocation_start()
    deleted = Allocated(einddatum=start, reden_wijziging="13")
    ok(store, samples.allocation(products=(Allocated(toewijzingnummer=5),)))
    ok(store, samples.allocation(products=(Allocated(toewijzingnummer=5, einddatum=start, reden_wijziging="13"),)))
    ok(store, samples.allocation())
    ok(store, samples.declaration())
    fails(store, samples.allocation(products=(deleted,)), "TR385")


def test_tr385_allows_delete_after_the_debit_was_credited(store):
    ok(store, samples.allocation())
    debit = Prestatie(referentienummer="P-1")
    ok(store, samples.declaration(clients={A: [debit]}))
    credit = Prestatie(referentienummer="P-2", vorig_referentienummer="P-1", debet_credit="C")
    ok(store, samples.declaration(clients={A: [credit]}))
    ok(store, samples.allocation(products=(Allocated(einddatum=allocation_start(), reden_wijziging="13"),)))


# --- 305 / 307 --------------------------------------------------------------------------------


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr019_start_needs_a_toewijzing_of_this_aanbieder_and_client(store, standard):
    fails(store, samples.start(standard), "TR019")
    ok(store, samples.allocation(standard))
    fails(store, samples.start(standard, bsn=B), "TR019")  # another client
    fails(store, samples.start(standard, aanbieder="87654321"), "TR019")  # another aanbieder
    ok(store, samples.start(standard))


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr019_start_and_stop_copy_the_specific_product(store, standard):
    cat, code = samples.DEFAULT_PRODUCT[standard]
    other = "45A02" if standard == "ijw" else "02A02"
    ok(store, samples.allocation(standard))
    r = fails(store, samples.start(standard, products=(Started(code=other),)), "TR019")
    assert r.issues[0].retourcode == "9019"
    assert r.issues[0].path.endswith("/StartProduct/Product")
    fails(store, samples.start(standard, products=(Started(code=None),)), "TR019")  # category only
    fails(store, samples.start(standard, products=(Started(categorie=None, code=None),)), "TR019")
    ok(store, samples.start(standard, products=(Started(categorie=cat, code=code),)))
    fails(store, samples.stop(standard, products=(Stopped(code=other),)), "TR019")
    ok(store, samples.stop(standard))


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr019_aspecific_toewijzing_start_carries_the_category_only(store, standard):
    ok(store, samples.allocation(standard, products=(Allocated(code=None),)))
    cat = samples.DEFAULT_PRODUCT[standard][0]
    r = fails(store, samples.start(standard), "TR019")  # a code the toewijzing does not have
    assert "aspecific" in r.issues[0].text
    fails(store, samples.start(standard, products=(Started(categorie=None, code=None),)), "TR019")
    ok(store, samples.start(standard, products=(Started(categorie=cat, code=None),)))
    ok(store, samples.stop(standard, products=(Stopped(code=None),)))


def test_tr019_generic_toewijzing_start_has_no_product(store):
    generic = Allocated(categorie=None, code=None, budget=50000)
    ok(store, samples.allocation(products=(generic,)))
    r = fails(store, samples.start(products=(Started(code=None),)), "TR019")
    assert "generic" in r.issues[0].text
    ok(store, samples.start(products=(Started(categorie=None, code=None),)))
    fails(store, samples.stop(), "TR019")
    ok(store, samples.stop(products=(Stopped(categorie=None, code=None),)))


def test_tr019_no_start_on_a_deleted_toewijzing(store):
    ok(store, samples.allocation())
    ok(store, samples.allocation(products=(Allocated(einddatum=allocation_start(), reden_wijziging="13"),)))
    r = fails(store, samples.start(), "TR019")
    assert "deleted" in r.issues[0].text
    # issued again (a later version without 13): it can be started
    again = Allocated(toewijzingsdatum=allocation_start() - timedelta(days=1))
    ok(store, samples.allocation(products=(again,)))
    ok(store, samples.start())


def test_tr019_product_is_not_checked_on_a_delete(store):
    # StatusAanlevering 3 gets no further content checks; TR063 judges the key.
    ok(store, samples.allocation())
    ok(store, samples.start())
    r = fails(store, samples.start(products=(Started(status="3", code="45A02"),)), "TR063")
    assert "TR019" not in r.codes


def test_tr019_stop_needs_a_toewijzing(store):
    r = fails(store, samples.stop(), "TR019")
    assert r.issues[0].retourcode == "9019" and r.issues[0].class_path.endswith("/StopProduct")


def test_tr063_delete_needs_an_earlier_delivery(store):
    ok(store, samples.allocation())
    fails(store, samples.start(products=(Started(status="3"),)), "TR063")
    ok(store, samples.start())
    ok(store, samples.start(products=(Started(status="3"),)))
    fails(store, samples.stop(products=(Stopped(status="3"),)), "TR063")


def test_tr071_no_delete_of_a_stopped_start(store):
    ok(store, samples.allocation())
    ok(store, samples.start())
    ok(store, samples.stop())
    r = fails(store, samples.start(products=(Started(status="3"),)), "TR071")
    assert r.issues[0].retourcode == "9071"
    ok(store, samples.stop(products=(Stopped(status="3"),)))  # delete the stop first
    ok(store, samples.start(products=(Started(status="3"),)))  # then the start


def test_tr074_key_not_received_before(store):
    ok(store, samples.allocation())
    ok(store, samples.start())
    r = fails(store, samples.start(), "TR074")
    assert "TR074" in r.codes
    ok(store, samples.stop())
    fails(store, samples.stop(), "TR074")


def test_tr074_delete_and_replace_in_one_message(store):
    ok(store, samples.allocation())
    ok(store, samples.start())
    later = allocation_start() + timedelta(days=3)
    ok(store, samples.start(products=(Started(status="3"), Started(begindatum=later))))


def test_tr326_one_actual_start_per_toewijzing(store):
    later = allocation_start() + timedelta(days=10)
    ok(store, samples.allocation())
    ok(store, samples.start())
    r = fails(store, samples.start(products=(Started(begindatum=later),)), "TR326")
    assert r.codes == {"TR326"}
    ok(store, samples.stop(products=(Stopped(reden_beeindiging="20", einddatum=later - timedelta(days=2)),)))
    ok(store, samples.start(products=(Started(begindatum=later),)))  # restart after a temporary stop


def test_tr382_stop_copies_an_actual_start(store):
    ok(store, samples.allocation())
    r = fails(store, samples.stop(), "TR382")
    assert r.issues[-1].retourcode == "9069"
    ok(store, samples.start())
    fails(store, samples.stop(products=(Stopped(begindatum=allocation_start() + timedelta(days=1)),)), "TR382")
    ok(store, samples.stop())


def _started(store):
    ok(store, samples.allocation())
    ok(store, samples.start())


def test_tr413_no_second_temporary_stop(store):
    _started(store)
    end = allocation_start() + timedelta(days=20)
    ok(store, samples.stop(products=(Stopped(reden_beeindiging="20", einddatum=end),)))
    fails(store, samples.stop(products=(Stopped(reden_beeindiging="20", einddatum=end + timedelta(days=5)),)), "TR413")
    ok(store, samples.stop(products=(Stopped(einddatum=end + timedelta(days=5)),)))


def test_tr414_definitive_end_not_before_temporary_end(store):
    _started(store)
    end = allocation_start() + timedelta(days=20)
    ok(store, samples.stop(products=(Stopped(reden_beeindiging="20", einddatum=end),)))
    fails(store, samples.stop(products=(Stopped(einddatum=end - timedelta(days=1)),)), "TR414")
    ok(store, samples.stop(products=(Stopped(einddatum=end),)))  # equal is allowed


def test_tr415_nothing_after_a_definitive_stop(store):
    _started(store)
    ok(store, samples.stop())
    fails(store, samples.stop(products=(Stopped(einddatum=samples.allocation_end()),)), "TR415")
