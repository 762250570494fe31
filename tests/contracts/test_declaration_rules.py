"""CR002 no-show, CR003 tariff/unit/amount, CR005 lump sum, and a mixed declaration."""

from __future__ import annotations

from datetime import date

import pytest

from gateway import samples
from tests.contracts.conftest import (
    CODE,
    GOUDA,
    GROENE_HART,
    HS_CENTRUM,
    MH,
    NL,
    NO_SHOW,
    PRODUCT,
    run,
    variant,
)

STANDARDS = ("ijw", "iwmo")
P = samples.Prestatie


def decl(std, prestaties, *, aanbieder=GROENE_HART, gemeente=GOUDA, periode=None):
    return samples.declaration(
        std, gemeente=gemeente, aanbieder=aanbieder, periode=periode, clients={samples.BSNS[0]: list(prestaties)}
    )


def rules_of(issues):
    return [(i.rule, i.retourcode, i.action, i.class_path.rsplit("/", 1)[-1]) for i in issues]


# -- CR002 no-show ---------------------------------------------------------------------------------


@pytest.mark.parametrize("std", STANDARDS)
def test_cr002_no_show_is_refused_whatever_the_amount(registry, std):
    cat, code = NO_SHOW[std]
    hourly = P(categorie=cat, code=code, volume=1)
    client_bill = P(categorie=cat, code=code, eenheid="83", volume=2500)  # the 25 euro client bill
    issues = run(registry, f"{CODE[std]}323", decl(std, [hourly, client_bill]))
    assert rules_of(issues) == [
        ("CR002", "S329", "reject", "Prestatie[1]"),
        ("CR002", "S329", "reject", "Prestatie[2]"),
    ]
    assert all(i.severity == "error" for i in issues)


@pytest.mark.parametrize("std", STANDARDS)
def test_cr002_no_show_flag_variant_and_pass(std):
    reg = variant(MH, ("CR002: reject", "CR002: flag"))
    cat, code = NO_SHOW[std]
    issues = run(reg, f"{CODE[std]}323", decl(std, [P(categorie=cat, code=code)]))
    assert [(i.rule, i.severity, i.action) for i in issues] == [("CR002", "warning", "flag")]
    assert run(reg, f"{CODE[std]}323", decl(std, [P()])) == []


def test_cr002_no_show_credit_is_not_refused(registry):
    # A credit can only be refused for technical reasons (IV085).
    credit = P(categorie="45", code="45NS1", debet_credit="C", vorig_referentienummer="P0001")
    assert run(registry, "JW323", decl("ijw", [credit])) == []


# -- CR003 tariff, unit, amount --------------------------------------------------------------------


@pytest.mark.parametrize("std", STANDARDS)
def test_cr003_contract_tariff_passes_and_other_tariff_is_refused(registry, std):
    # 2026 tariff of 45A01 / 02A01: 75.00 per hour (the samples' default).
    assert run(registry, f"{CODE[std]}323", decl(std, [P()])) == []
    issues = run(registry, f"{CODE[std]}323", decl(std, [P(tarief=7000)]))
    assert rules_of(issues) == [("CR003", "0611", "reject", "Prestatie")]
    assert issues[0].path.endswith("/ProductTarief") and "75.00" in issues[0].text


@pytest.mark.parametrize("std", STANDARDS)
def test_cr003_tariff_flag_variant(std):
    reg = variant(MH, ("CR003: reject", "CR003: flag"))
    issues = run(reg, f"{CODE[std]}323", decl(std, [P(tarief=7000)]))
    assert [(i.rule, i.severity, i.action) for i in issues] == [("CR003", "warning", "flag")]


@pytest.mark.parametrize("std", STANDARDS)
def test_cr003_uncontracted_unit_is_refused(registry, std):
    issues = run(registry, f"{CODE[std]}323", decl(std, [P(eenheid="14", tarief=7500)]))
    assert rules_of(issues) == [("CR003", "0611", "reject", "Prestatie")]
    assert issues[0].path.endswith("/Eenheid")


@pytest.mark.parametrize("std", STANDARDS)
def test_cr003_amount_must_be_volume_times_contract_tariff(registry, std):
    issues = run(registry, f"{CODE[std]}323", decl(std, [P(volume=8, tarief=7500, bedrag=61000)]))
    assert rules_of(issues) == [("CR003", "9346", "reject", "Prestatie")]
    assert issues[0].path.endswith("/IngediendBedrag")


@pytest.mark.parametrize("std", STANDARDS)
def test_cr003_hourly_tariff_declared_in_minutes(registry, std):
    # IV081: 75.00/h x 90 min / 60 = 112.50; ProductTarief is the rounded per-minute rate 1.25.
    assert run(registry, f"{CODE[std]}323", decl(std, [P(eenheid="01", volume=90, tarief=125, bedrag=11250)])) == []
    wrong = run(registry, f"{CODE[std]}323", decl(std, [P(eenheid="01", volume=90, tarief=125, bedrag=11300)]))
    assert [i.retourcode for i in wrong] == ["9346"]


def test_cr003_tariff_of_the_prestatie_date(registry):
    # 45A01: 72.50 in 2025, 75.00 from 2026.
    nov25 = (date(2025, 11, 1), date(2025, 11, 30))
    p25 = dict(begindatum=nov25[0], einddatum=nov25[1])
    assert run(registry, "JW323", decl("ijw", [P(tarief=7250, **p25)], periode=nov25)) == []
    assert [i.rule for i in run(registry, "JW323", decl("ijw", [P(tarief=7500, **p25)], periode=nov25))] == ["CR003"]


def test_cr003_provider_specific_tariff(registry):
    etmaal = dict(categorie="43", code="43HS1", eenheid="14", volume=10)
    # The HS centre has an addendum tariff of 395.00; the general tariff is 360.00.
    assert run(registry, "JW323", decl("ijw", [P(tarief=39500, **etmaal)], aanbieder=HS_CENTRUM)) == []
    issues = run(registry, "JW323", decl("ijw", [P(tarief=36000, **etmaal)], aanbieder=HS_CENTRUM))
    assert [i.rule for i in issues] == ["CR003"] and "395.00" in issues[0].text


# -- CR005 lump sum --------------------------------------------------------------------------------


def test_cr005_lump_sum_product_is_never_declared(registry):
    consult = P(categorie="45", code="45HL1", eenheid="83", volume=120000)
    issues = run(registry, "JW323", decl("ijw", [consult], aanbieder=HS_CENTRUM))
    assert rules_of(issues) == [("CR005", "S329", "reject", "Prestatie")]
    assert run(registry, "JW323", decl("ijw", [P(categorie="45", code="45HC1", eenheid="84", volume=1, tarief=45000)], aanbieder=HS_CENTRUM)) == []


S4_OUTPUT = '{id: jeugd-s4, name: "Jeugd S4: ambulant/specialistisch", law: jeugd, variant: outputgericht}'
S4_TASK = S4_OUTPUT.replace("outputgericht", "taakgericht")


@pytest.mark.parametrize("std", STANDARDS)
def test_cr005_task_funded_product_flag_and_reject(std):
    # Noord-Limburg configures Wmo S3a (HbH, population funding) as taakgericht and flags (CR005: flag).
    # For iJw a variant makes youth S4 taakgericht.
    if std == "iwmo":
        p = P(categorie="01", code="N3A01", tarief=3000, begindatum=date(2025, 10, 1), einddatum=date(2025, 10, 31))
        aanbieder, base = "45670003", ()
    else:
        p = P(categorie="45", code="J4A01", eenheid="82", volume=1, tarief=300000,
              begindatum=date(2025, 10, 1), einddatum=date(2025, 10, 31))
        aanbieder, base = "45670001", ((S4_OUTPUT, S4_TASK),)
    reg_flag = variant(NL, *base)
    reg_reject = variant(NL, *base, ("CR005: flag", "CR005: reject"))
    xml = decl(std, [p], aanbieder=aanbieder, gemeente="0983", periode=(date(2025, 10, 1), date(2025, 10, 31)))
    assert [(i.rule, i.severity, i.action) for i in run(reg_flag, f"{CODE[std]}323", xml)] == [
        ("CR005", "warning", "flag")
    ]
    assert [(i.rule, i.severity, i.action) for i in run(reg_reject, f"{CODE[std]}323", xml)] == [
        ("CR005", "error", "reject")
    ]


# -- a declaration mixing good and bad prestaties --------------------------------------------------


@pytest.mark.parametrize("std", STANDARDS)
def test_cr001_cr002_cr003_mixed_declaration_issues_on_exactly_the_bad_prestaties(registry, std):
    cat, code = PRODUCT[std]
    ns_cat, ns_code = NO_SHOW[std]
    # An uncontracted product for Groene Hart: hoog-specialistisch (iJw), beschermd wonen (iWmo).
    un_cat, un_code = ("43", "43HS1") if std == "ijw" else ("15", "15BW1")
    prestaties = [
        P(),  # 1 good
        P(categorie=ns_cat, code=ns_code, volume=1),  # 2 no-show
        P(eenheid="01", volume=45, tarief=125, bedrag=5625),  # 3 good, minutes
        P(categorie=un_cat, code=un_code, eenheid="14", volume=3, tarief=36000),  # 4 uncontracted
        P(tarief=8000),  # 5 wrong tariff
        P(volume=2),  # 6 good
    ]
    issues = run(registry, f"{CODE[std]}323", decl(std, prestaties))
    assert sorted(rules_of(issues), key=lambda r: r[3]) == [
        ("CR002", "S329", "reject", "Prestatie[2]"),
        ("CR001", "S329", "reject", "Prestatie[4]"),
        ("CR003", "0611", "reject", "Prestatie[5]"),
    ]


@pytest.mark.parametrize("std", STANDARDS)
def test_cr003_allocation_uses_a_contracted_unit_and_frequency(registry, std):
    def alloc(**kw):
        return samples.allocation(std, gemeente=GOUDA, aanbieder=GROENE_HART, products=(samples.Allocated(**kw),))

    assert run(registry, f"{CODE[std]}301", alloc(eenheid="04", frequentie="2")) == []
    wrong_unit = run(registry, f"{CODE[std]}301", alloc(eenheid="14", frequentie="2"))
    assert [(i.rule, i.retourcode, i.class_path.rsplit("/", 1)[-1]) for i in wrong_unit] == [
        ("CR003", "S329", "ToegewezenProduct")
    ]
    assert wrong_unit[0].path.endswith("/Omvang/Eenheid")
    # Dagbesteding (iJw 45D01 / iWmo 07D01) is contracted per week or month, not per day.
    dag = dict(categorie="45", code="45D01") if std == "ijw" else dict(categorie="07", code="07D01")
    aanbieder = GROENE_HART if std == "ijw" else "12340002"
    xml = samples.allocation(
        std, gemeente=GOUDA, aanbieder=aanbieder,
        products=(samples.Allocated(eenheid="16", frequentie="1", toewijzingsdatum=date(2026, 5, 1), ingangsdatum=date(2026, 5, 4), einddatum=date(2026, 9, 30), **dag),),
    )
    issues = run(registry, f"{CODE[std]}301", xml)
    assert [(i.rule, "Frequentie 1" in i.text) for i in issues] == [("CR003", True)]
