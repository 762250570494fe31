"""Request and answer rules: TR383, TR386 (315); TR352, TR353, TR410 (317); TR377, TR409 (319, iJw)."""

from __future__ import annotations

from datetime import date

import pytest
from rule_helpers import STANDARDS, Msg

from gateway import clock, samples
from validators import engine

AP = "/Bericht/Client/AangevraagdeProducten/AangevraagdProduct"
NP = "/Bericht/Client/Verzoek/NieuweProducten/NieuwProduct"
NEXT_YEAR = clock.today().year + 1


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr383_referentie_aanbieder_unique_per_requested_product(standard):
    a = samples.Requested(referentie_aanbieder="REF1", ingangsdatum=date(NEXT_YEAR, 1, 1), einddatum=date(NEXT_YEAR, 1, 31))
    b = samples.Requested(referentie_aanbieder="REF2", ingangsdatum=date(NEXT_YEAR, 2, 1), einddatum=date(NEXT_YEAR, 2, 28))
    assert Msg(samples.request(standard, products=(a, b))).issues("TR383") == []
    c = samples.Requested(referentie_aanbieder="REF1", ingangsdatum=date(NEXT_YEAR, 3, 1), einddatum=date(NEXT_YEAR, 3, 31))
    msg = Msg(samples.request(standard, products=(a, b, c)))
    # The official report lists the earlier product whose value is used again, not the later one.
    assert msg.locations("TR383") == [[f"{AP}[1]/ReferentieAanbieder"]]
    # A, A, A: the first two (each compared with a later one).
    msg = Msg(samples.request(standard, products=(a, b, c, c)))
    assert sorted({loc for locs in msg.locations("TR383") for loc in locs}) == [
        f"{AP}[1]/ReferentieAanbieder", f"{AP}[3]/ReferentieAanbieder"
    ]


def _req(nr, start, end, cat=samples.AUTO, code=samples.AUTO, **kw):
    return samples.Requested(referentie_aanbieder=f"R{nr}", categorie=cat, code=code, ingangsdatum=start, einddatum=end, **kw)


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr386_requested_products_must_not_stack(standard):
    y = NEXT_YEAR
    ok = (_req(1, date(y, 1, 1), date(y, 3, 31)), _req(2, date(y, 4, 1), date(y, 6, 30)))
    assert Msg(samples.request(standard, products=ok)).issues("TR386") == []
    bad = (_req(1, date(y, 1, 1), date(y, 4, 30)), _req(2, date(y, 4, 1), date(y, 6, 30)))
    assert Msg(samples.request(standard, products=bad)).paths("TR386") == [f"{AP}[1]", f"{AP}[2]"]


def test_tr386_iwmo_categories_11_to_14_may_overlap():
    y = NEXT_YEAR
    products = (_req(1, date(y, 1, 1), None, "14", "14A01"), _req(2, date(y, 2, 1), None, "14", "14A01"))
    assert Msg(samples.request("iwmo", products=products)).issues("TR386") == []
    assert Msg(samples.request("ijw", products=(
        _req(1, date(y, 1, 1), None, "45", "45A01"), _req(2, date(y, 2, 1), None, "45", "45A01"),
    ))).paths("TR386") == [f"{AP}[1]", f"{AP}[2]"]


def _new(start, end, cat=samples.AUTO, code=samples.AUTO, **kw):
    return samples.NewProduct(categorie=cat, code=code, gewenste_ingangsdatum=start, einddatum=end, **kw)


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr410_new_products_must_not_stack(standard):
    y = NEXT_YEAR
    ok = (_new(date(y, 1, 1), date(y, 3, 31)), _new(date(y, 4, 1), date(y, 6, 30)))
    assert Msg(samples.change_request(standard, new=ok)).issues("TR410") == []
    bad = (_new(date(y, 1, 1), date(y, 4, 1)), _new(date(y, 4, 1), date(y, 6, 30)))
    assert Msg(samples.change_request(standard, new=bad)).paths("TR410") == [f"{NP}[1]", f"{NP}[2]"]
    cat = samples.DEFAULT_PRODUCT[standard][0]
    aspecific = (_new(date(y, 1, 1), None, cat, None, volume=None), _new(date(y, 6, 1), date(y, 6, 30)))
    assert Msg(samples.change_request(standard, new=aspecific)).paths("TR410") == [f"{NP}[1]", f"{NP}[2]"]


def test_tr410_iwmo_categories_11_to_14_may_overlap():
    y = NEXT_YEAR
    new = (_new(date(y, 1, 1), None, "11", "11A01"), _new(date(y, 2, 1), None, "11", "11A01"))
    assert Msg(samples.change_request("iwmo", new=new)).issues("TR410") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr352_vow_needs_an_unchanged_or_changed_product(standard):
    assert Msg(samples.change_request(standard)).issues("TR352") == []
    only_unchanged = samples.change_request(standard, to_change=(), unchanged=(samples.Unchanged(),), new=(samples.NewProduct(),))
    assert Msg(only_unchanged).issues("TR352") == []
    only_new = Msg(samples.change_request(standard, to_change=(), new=(samples.NewProduct(),)))
    assert only_new.paths("TR352") == ["/Bericht/Client/Verzoek"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr353_vow_needs_a_changed_or_new_product(standard):
    assert Msg(samples.change_request(standard)).issues("TR353") == []
    only_new = samples.change_request(standard, to_change=(), unchanged=(samples.Unchanged(),), new=(samples.NewProduct(),))
    assert Msg(only_new).issues("TR353") == []
    only_unchanged = Msg(samples.change_request(standard, to_change=(), unchanged=(samples.Unchanged(),)))
    assert only_unchanged.paths("TR353") == ["/Bericht/Client/Verzoek"]


def test_tr377_woonplaatsbeginsel_required_with_reason_8():
    ok = Msg(samples.answer("ijw", verzoek_antwoord="1", reden_afwijzing="8", woonplaatsbeginsel="0363"))
    assert ok.issues("TR377") == []
    bad = Msg(samples.answer("ijw", verzoek_antwoord="1", reden_afwijzing="8"))
    assert bad.paths("TR377") == ["/Bericht/Antwoord/Woonplaatsbeginsel"]


def test_tr409_woonplaatsbeginsel_only_with_reason_8():
    assert Msg(samples.answer("ijw", verzoek_antwoord="1", reden_afwijzing="5")).issues("TR409") == []
    bad = Msg(samples.answer("ijw", verzoek_antwoord="1", reden_afwijzing="5", woonplaatsbeginsel="0363"))
    assert bad.locations("TR409") == [["/Bericht/Antwoord/RedenAfwijzingVerzoek", "/Bericht/Antwoord/Woonplaatsbeginsel"]]
    # Without a RedenAfwijzingVerzoek the rule does not apply (the official rule-check starts from it).
    bad.drop("Antwoord/RedenAfwijzingVerzoek")
    assert bad.issues("TR409", schema_valid=False) == []


def test_tr377_tr409_do_not_apply_to_iwmo():
    wmo319 = Msg(samples.answer("iwmo")).mtype
    for code in ("TR377", "TR409"):
        assert not engine.load_all()[code].applies_to(wmo319)
