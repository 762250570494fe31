"""Cross-message rules of 315 (TR347, TR374), 317 (TR304, TR347, TR349-TR351, TR357, TR361,
TR373, TR374, TR375, TR411, TR412) and 319 (TR355, TR359, TR360, TR365), on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway import samples
from gateway.samples import (
    BSNS,
    Allocated,
    NewProduct,
    Requested,
    ToChange,
    Unchanged,
    allocation_end,
    allocation_start,
)
from gateway.samples.params import next_month_start
from tests.store.test_rules_allocation_regie import fails, ok

A, B = BSNS[0], BSNS[1]


def _vot(store, ref, bsn=A, standard="ijw"):
    ok(store, samples.request(standard, bsn=bsn, products=(Requested(referentie_aanbieder=ref),)))


# --- 315 --------------------------------------------------------------------------------------


def test_tr347_referentie_unique_per_aanbieder(store):
    _vot(store, "R1")
    ok(store, samples.answer(referentie_aanbieder="R1", verzoek_antwoord="1", reden_afwijzing="1"))
    r = fails(store, samples.request(bsn=B, products=(Requested(referentie_aanbieder="R1"),)), "TR347")
    assert r.issues[0].class_path.endswith("/AangevraagdProduct")
    ok(store, samples.request(bsn=B, products=(Requested(referentie_aanbieder="R1"),), aanbieder="87654321"))
    fails(store, samples.change_request(bsn=B, referentie_aanbieder="R1"), "TR347")


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr374_one_pending_request_per_client(store, standard):
    _vot(store, "R1", standard=standard)
    r = fails(store, samples.request(standard, products=(Requested(referentie_aanbieder="R2"),)), "TR374")
    assert r.issues[0].retourcode == "9374"
    _vot(store, "R3", bsn=B, standard=standard)  # another client is not affected
    ok(store, samples.answer(standard, referentie_aanbieder="R1", verzoek_antwoord="2"))
    fails(store, samples.request(standard, products=(Requested(referentie_aanbieder="R4"),)), "TR374")
    ok(store, samples.answer(standard, referentie_aanbieder="R1", verzoek_antwoord="1", reden_afwijzing="1"))
    _vot(store, "R5", standard=standard)  # the first request was rejected: no longer pending


def test_tr374_a_toewijzing_ends_the_pending_request(store):
    _vot(store, "R1")
    ok(store, samples.allocation(products=(Allocated(referentie_aanbieder="R1"),)))
    _vot(store, "R2")


# --- 317 --------------------------------------------------------------------------------------


def _two_allocations(store, standard="ijw"):
    second = Allocated(toewijzingnummer=1002, categorie="10" if standard == "ijw" else "03", code=None,
                       volume=None, eenheid=None, frequentie=None)
    ok(store, samples.allocation(standard, products=(Allocated(), second)))


def test_tr349_vow_names_every_actual_toewijzing(store):
    _two_allocations(store)
    r = fails(store, samples.change_request(), "TR349")
    assert r.issues[0].class_path.endswith("/Verzoek")
    ok(store, samples.change_request(unchanged=(Unchanged(1002),)))


def test_tr350_unchanged_refers_to_an_actual_toewijzing(store):
    ok(store, samples.allocation())
    fails(store, samples.change_request(unchanged=(Unchanged(4242),)), "TR350")
    ok(store, samples.change_request())


def test_tr351_to_change_refers_to_an_actual_toewijzing(store):
    ok(store, samples.allocation())
    ok(store, samples.allocation(bsn=B, products=(Allocated(toewijzingnummer=77),)))
    r = fails(store, samples.change_request(to_change=(ToChange(), ToChange(toewijzingnummer=4242))), "TR351")
    assert r.issues[0].class_path.endswith("TeWijzigenProduct[2]")
    # TR304: a toewijzing of another client
    fails(store, samples.change_request(to_change=(ToChange(), ToChange(toewijzingnummer=77))), "TR304")
    ok(store, samples.change_request())


def test_tr351_ended_toewijzing_is_not_actual(store):
    ended = Allocated(ingangsdatum=allocation_start() - timedelta(days=100), einddatum=allocation_start() - timedelta(days=1))
    ok(store, samples.allocation(products=(ended,)))
    fails(store, samples.change_request(), "TR351")


def test_tr357_retroactive_change_covers_the_whole_term(store):
    ok(store, samples.allocation())
    fails(store, samples.change_request(to_change=(ToChange(gewenste_ingangsdatum=allocation_start() + timedelta(days=3)),)), "TR357")
    ok(store, samples.change_request(to_change=(ToChange(gewenste_ingangsdatum=next_month_start()),)))


def test_tr373_budget_change_from_the_ingangsdatum(store):
    budget = Allocated(code=None, volume=None, eenheid=None, frequentie=None, budget=100000)
    ok(store, samples.allocation(products=(budget,)))
    change = ToChange(gewenste_ingangsdatum=next_month_start(), volume=None, eenheid=None, frequentie=None, budget=150000)
    fails(store, samples.change_request(to_change=(change,)), "TR373")
    ok(store, samples.change_request(to_change=(ToChange(volume=None, eenheid=None, frequentie=None, budget=150000),)))


def test_tr375_tr412_no_omvang_without_product_or_code(store):
    generic = Allocated(categorie=None, code=None, volume=None, eenheid=None, frequentie=None, budget=90000)
    ok(store, samples.allocation(products=(generic,)))
    r = fails(store, samples.change_request(), "TR375")
    assert {"TR375", "TR412"} <= r.codes
    ok(store, samples.change_request(to_change=(ToChange(volume=None, eenheid=None, frequentie=None, budget=90000),)))


def test_tr412_aspecific_toewijzing_without_omvang(store):
    aspecific = Allocated(code=None, volume=None, eenheid=None, frequentie=None)
    ok(store, samples.allocation(products=(aspecific,)))
    r = fails(store, samples.change_request(), "TR412")
    assert "TR375" not in r.codes


def test_tr411_omvang_needed_for_a_specific_toewijzing(store):
    ok(store, samples.allocation())
    fails(store, samples.change_request(to_change=(ToChange(volume=None, eenheid=None, frequentie=None),)), "TR411")
    ok(store, samples.change_request())


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr361_no_overlapping_products_in_a_vow(store, standard):
    ok(store, samples.allocation(standard))
    overlapping = NewProduct(gewenste_ingangsdatum=next_month_start(), einddatum=allocation_end() + timedelta(days=60))
    fails(store, samples.change_request(standard, to_change=(), unchanged=(Unchanged(),), new=(overlapping,)), "TR361")
    after = NewProduct(gewenste_ingangsdatum=allocation_end() + timedelta(days=1), einddatum=allocation_end() + timedelta(days=60))
    ok(store, samples.change_request(standard, to_change=(), unchanged=(Unchanged(),), new=(after,)))


def test_tr361_iwmo_hulpmiddelen_may_overlap(store):
    aid = Allocated(categorie="12", code="12A01")
    ok(store, samples.allocation("iwmo", products=(aid,)))
    again = NewProduct(categorie="12", code="12A01", gewenste_ingangsdatum=next_month_start())
    ok(store, samples.change_request("iwmo", to_change=(), unchanged=(Unchanged(),), new=(again,)))


# --- 319 --------------------------------------------------------------------------------------


def test_tr355_answer_to_an_earlier_request(store):
    r = fails(store, samples.answer(referentie_aanbieder="NOPE"), "TR355")
    assert r.issues[0].class_path.endswith("/Antwoord")
    _vot(store, "R1")
    ok(store, samples.answer(referentie_aanbieder="R1"))


def test_tr359_no_answer_after_a_toewijzing(store):
    _vot(store, "R1")
    ok(store, samples.allocation(products=(Allocated(referentie_aanbieder="R1"),)))
    fails(store, samples.answer(referentie_aanbieder="R1", verzoek_antwoord="1", reden_afwijzing="1"), "TR359")


def test_tr360_in_onderzoek_only_first(store):
    _vot(store, "R1")
    ok(store, samples.answer(referentie_aanbieder="R1", verzoek_antwoord="2"))
    r = fails(store, samples.answer(referentie_aanbieder="R1", verzoek_antwoord="2"), "TR360")
    assert r.issues[0].retourcode == "9360"


def test_tr365_earlier_answer_was_in_onderzoek(store):
    _vot(store, "R1")
    _vot(store, "R2", bsn=B)
    ok(store, samples.answer(referentie_aanbieder="R1", verzoek_antwoord="2"))
    ok(store, samples.answer(referentie_aanbieder="R1", verzoek_antwoord="1", reden_afwijzing="1"))
    ok(store, samples.answer(referentie_aanbieder="R2", verzoek_antwoord="1", reden_afwijzing="1"))
    fails(store, samples.answer(referentie_aanbieder="R2", verzoek_antwoord="1", reden_afwijzing="1"), "TR365")
