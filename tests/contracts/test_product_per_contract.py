"""CR001 product per contract (with exception contracts), CR007 transition, CR008 cliëntenstop."""

from __future__ import annotations

from datetime import date

import pytest

from gateway import samples
from tests.contracts.conftest import (
    CODE,
    DE_LINDE,
    GI,
    GOUDA,
    GOUWE,
    GROENE_HART,
    KRIMPENERWAARD,
    MH,
    PRODUCT,
    URC_PROVIDER,
    only,
    run,
    variant,
)

STANDARDS = ("ijw", "iwmo")


def _alloc(std, aanbieder, gemeente=GOUDA, **kw):
    return samples.allocation(std, gemeente=gemeente, aanbieder=aanbieder, products=(samples.Allocated(**kw),))


@pytest.mark.parametrize("std", STANDARDS)
def test_cr001_contracted_product_passes(registry, std):
    assert run(registry, f"{CODE[std]}301", _alloc(std, GROENE_HART)) == []


@pytest.mark.parametrize("std", STANDARDS)
def test_cr001_uncontracted_allocation_is_refused_on_its_product(registry, std):
    issues = run(registry, f"{CODE[std]}301", _alloc(std, GI))
    assert [i.rule for i in issues] == ["CR001"]
    i = issues[0]
    assert (i.severity, i.action, i.retourcode) == ("error", "reject", "S329")
    assert i.class_path == "/Bericht/Client/ToegewezenProducten/ToegewezenProduct"
    assert i.path.endswith("/Product/Code")
    assert GI in i.text and PRODUCT[std][1] in i.text


@pytest.mark.parametrize("std", STANDARDS)
def test_cr001_region_may_choose_flag(std):
    reg = variant(MH, ("CR001: reject", "CR001: flag"))
    issues = run(reg, f"{CODE[std]}301", _alloc(std, GI))
    assert [(i.rule, i.severity, i.action) for i in issues] == [("CR001", "warning", "flag")]


@pytest.mark.parametrize("std", STANDARDS)
def test_cr001_every_product_message_is_checked(registry, std):
    c = CODE[std]
    messages = {
        "305": samples.start(std, gemeente=GOUDA, aanbieder=GI),
        "315": samples.request(std, gemeente=GOUDA, aanbieder=GI, products=(samples.Requested(verwijzer_type="01"),)),
        "317": samples.change_request(std, gemeente=GOUDA, aanbieder=GI, new=(samples.NewProduct(),)),
        "323": samples.declaration(std, gemeente=GOUDA, aanbieder=GI),
    }
    for number, xml in messages.items():
        assert only(run(registry, f"{c}{number}", xml), "CR001"), number
        # The same messages from a contracted provider pass CR001.
    ok = {
        "305": samples.start(std, gemeente=GOUDA, aanbieder=GROENE_HART),
        "317": samples.change_request(std, gemeente=GOUDA, aanbieder=GROENE_HART, new=(samples.NewProduct(),)),
        "323": samples.declaration(std, gemeente=GOUDA, aanbieder=GROENE_HART),
    }
    for number, xml in ok.items():
        assert only(run(registry, f"{c}{number}", xml), "CR001") == [], number


def test_cr001_unknown_product_code_is_refused(registry):
    issues = run(registry, "JW301", _alloc("ijw", GROENE_HART, code="45ZZZ"))
    assert [i.rule for i in issues] == ["CR001"]
    assert "not in the product list" in issues[0].text


def test_cr001_municipality_outside_the_providers_contract(registry):
    # Within the HbH contract (until 2026-12-31) and before Gouwe's cliëntenstop, whatever today is.
    hbh = {"categorie": "01", "code": "01H01", "ingangsdatum": date(2026, 6, 1), "einddatum": date(2026, 9, 30),
           "toewijzingsdatum": date(2026, 5, 25)}
    assert run(registry, "WMO301", _alloc("iwmo", GOUWE, gemeente=GOUDA, **hbh)) == []
    issues = run(registry, "WMO301", _alloc("iwmo", GOUWE, gemeente=KRIMPENERWAARD, **hbh))
    assert [i.rule for i in issues] == ["CR001"] and KRIMPENERWAARD in issues[0].text


def test_cr001_contract_period_ends(registry):
    # Dagbesteding Jeugd for Groene Hart runs until 2026-12-31.
    dag = {"categorie": "45", "code": "45D01", "eenheid": "16", "frequentie": "2"}
    before = _alloc("ijw", GROENE_HART, ingangsdatum=date(2026, 12, 1), einddatum=date(2026, 12, 31), **dag)
    after = _alloc("ijw", GROENE_HART, ingangsdatum=date(2027, 1, 4), einddatum=date(2027, 3, 31), **dag)
    assert run(registry, "JW301", before) == []
    assert [i.rule for i in run(registry, "JW301", after)] == ["CR001"]


def test_cr001_products_of_a_lot_subset(registry):
    # De Linde holds 45A01 and 54G01 of ambulant-jeugd, not 45A02.
    assert run(registry, "JW301", _alloc("ijw", DE_LINDE, toewijzingsdatum=date(2026, 5, 1))) == []
    issues = run(registry, "JW301", _alloc("ijw", DE_LINDE, code="45A02", toewijzingsdatum=date(2026, 5, 1)))
    assert [i.rule for i in issues] == ["CR001"]


def test_cr001_urc_exception_by_toewijzing_number(registry):
    d = date(2026, 3, 1)
    urc = _alloc("ijw", URC_PROVIDER, code="45A02", toewijzingnummer=7001, ingangsdatum=d)
    other_client = _alloc("ijw", URC_PROVIDER, code="45A02", toewijzingnummer=7002, ingangsdatum=d)
    other_product = _alloc("ijw", URC_PROVIDER, code="45A01", toewijzingnummer=7001, ingangsdatum=d)
    assert run(registry, "JW301", urc) == []
    assert [i.rule for i in run(registry, "JW301", other_client)] == ["CR001"]
    assert [i.rule for i in run(registry, "JW301", other_product)] == ["CR001"]


def test_cr001_csa_exception_by_hashed_bsn(registry):
    def alloc(bsn):
        return samples.allocation(
            "ijw",
            gemeente=GOUDA,
            aanbieder=DE_LINDE,
            bsn=bsn,
            products=(samples.Allocated(code="45A02", toewijzingsdatum=date(2026, 5, 1), ingangsdatum=date(2026, 5, 4)),),
        )

    # The bundle holds the salted hash of BSNS[5], never the BSN itself.
    assert samples.BSNS[5] not in MH.read_text()
    assert run(registry, "JW301", alloc(samples.BSNS[5])) == []
    assert [i.rule for i in run(registry, "JW301", alloc(samples.BSNS[0]))] == ["CR001"]


def test_no_region_or_no_registry_means_no_contract_rules(registry):
    xml = samples.allocation("ijw", aanbieder=GI)  # Rotterdam: in no example region
    assert run(registry, "JW301", xml) == []
    assert run(None, "JW301", _alloc("ijw", GI)) == []


# -- CR007 transition ------------------------------------------------------------------------------


def _prestatie_decl(std, aanbieder, code, begin, end, **kw):
    cat = "54" if std == "ijw" else "02"
    p = samples.Prestatie(categorie=cat, code=code, begindatum=begin, einddatum=end, **kw)
    return samples.declaration(std, gemeente=GOUDA, aanbieder=aanbieder, periode=(begin, end), clients={samples.BSNS[0]: [p]})


def test_cr007_old_code_accepted_until_cutoff_and_mapped(registry):
    # Jeugd GGZ trajectory 54T01 -> minute product 54G01 (1.95 per minute) until 2025-12-31.
    ok = _prestatie_decl("ijw", GROENE_HART, "54T01", date(2025, 11, 1), date(2025, 11, 30), volume=120, eenheid="01", tarief=195)
    late = _prestatie_decl("ijw", GROENE_HART, "54T01", date(2026, 1, 1), date(2026, 1, 31), volume=120, eenheid="01", tarief=195)
    assert run(registry, "JW323", ok) == []
    issues = run(registry, "JW323", late)
    assert [(i.rule, i.retourcode, i.action) for i in issues] == [("CR007", "S329", "reject")]
    assert "54G01" in issues[0].text
    assert registry.map_product(GOUDA, "jeugd", "54", "54T01", date(2025, 6, 1)) == ("54", "54G01")
    assert registry.map_product(GOUDA, "jeugd", "54", "54T01", date(2026, 6, 1)) == ("54", "54T01")
    assert registry.map_product(GOUDA, "jeugd", "45", "45A01", date(2025, 6, 1)) == ("45", "45A01")


def test_cr007_old_wmo_code_uses_the_old_tariff_until_date_x(registry):
    # 02B24 -> 02A01 until 2025-08-31 at the old tariff 66.00 per hour.
    ok = _prestatie_decl("iwmo", GROENE_HART, "02B24", date(2025, 8, 1), date(2025, 8, 31), volume=4, tarief=6600)
    wrong = _prestatie_decl("iwmo", GROENE_HART, "02B24", date(2025, 8, 1), date(2025, 8, 31), volume=4, tarief=6800)
    late = _prestatie_decl("iwmo", GROENE_HART, "02B24", date(2025, 9, 1), date(2025, 9, 30), volume=4, tarief=6600)
    assert run(registry, "WMO323", ok) == []
    assert [i.rule for i in run(registry, "WMO323", wrong)] == ["CR003"]
    assert [i.rule for i in run(registry, "WMO323", late)] == ["CR007"]


def test_cr007_transition_flag_variant():
    reg = variant(MH, ("CR007: reject", "CR007: flag"))
    late = _prestatie_decl("ijw", GROENE_HART, "54T01", date(2026, 1, 1), date(2026, 1, 31), volume=120, eenheid="01", tarief=195)
    assert [(i.rule, i.severity) for i in run(reg, "JW323", late)] == [("CR007", "warning")]


# -- CR008 cliëntenstop ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("std", "provider", "during", "before"),
    [
        ("ijw", DE_LINDE, date(2026, 7, 1), date(2026, 5, 1)),
        ("iwmo", GOUWE, date(2026, 10, 5), date(2026, 9, 1)),
    ],
)
def test_cr008_client_stop_blocks_new_allocations_only(registry, std, provider, during, before):
    new = _alloc(std, provider, toewijzingsdatum=during, ingangsdatum=during)
    running = _alloc(std, provider, toewijzingsdatum=before, ingangsdatum=before)
    issues = run(registry, f"{CODE[std]}301", new)
    assert [(i.rule, i.action) for i in issues] == [("CR008", "reject")]
    # A resend of an allocation decided before the stop keeps its Toewijzingsdatum (IV013): running care.
    assert run(registry, f"{CODE[std]}301", running) == []
    # A change (RedenWijziging filled) is not a new allocation either.
    changed = _alloc(std, provider, toewijzingsdatum=during, ingangsdatum=before, reden_wijziging="02")
    assert only(run(registry, f"{CODE[std]}301", changed), "CR008") == []


def test_cr008_client_stop_flag_variant():
    reg = variant(MH, ("CR008: reject", "CR008: flag"))
    new = _alloc("ijw", DE_LINDE, toewijzingsdatum=date(2026, 7, 1), ingangsdatum=date(2026, 7, 1))
    assert [(i.rule, i.severity, i.action) for i in run(reg, "JW301", new)] == [("CR008", "warning", "flag")]


def test_cr001_cross_law_product_allocated_under_the_wmo(registry):
    # Midden-Holland's 18-21 housing sits in the Wonen Jeugd contract but comes as a WMO301.
    housing = dict(categorie="05", code="05JV1", eenheid="14", frequentie="4")
    assert run(registry, "WMO301", _alloc("iwmo", "12340004", **housing)) == []
    assert [i.rule for i in run(registry, "WMO301", _alloc("iwmo", GROENE_HART, **housing))] == ["CR001"]


def test_cr001_twente_begeleiding_covers_13_municipalities(registry):
    day = date(2026, 3, 2)

    def alloc(gemeente, code):
        return _alloc("ijw", "34560001", gemeente=gemeente, code=code, ingangsdatum=day)

    assert run(registry, "JW301", alloc("0153", "TB002")) == []  # Enschede
    assert [i.rule for i in run(registry, "JW301", alloc("0141", "TB001"))] == ["CR001"]  # Almelo: not in
    assert run(registry, "JW301", alloc("0164", "TB001")) == []  # Hengelo: regular begeleiding only
    assert [i.rule for i in run(registry, "JW301", alloc("0164", "TB002"))] == ["CR001"]


@pytest.mark.parametrize("std", STANDARDS)
def test_cr001_aspecific_allocation_needs_a_contract_in_its_category(registry, std):
    cat = PRODUCT[std][0]
    assert run(registry, f"{CODE[std]}301", _alloc(std, GROENE_HART, categorie=cat, code=None)) == []
    issues = run(registry, f"{CODE[std]}301", _alloc(std, GI, categorie=cat, code=None))
    assert [(i.rule, i.retourcode) for i in issues] == [("CR001", "S329")]
    assert issues[0].path.endswith("/Product/Categorie") and f"category {cat}" in issues[0].text
