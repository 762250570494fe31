"""Cross-message rules of the 323 on both stores: declaration-level (TR333, TR318) rejects the
whole declaration, prestatie-level rules reject only the failing prestatie."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from gateway import clock, samples
from gateway.samples import BSNS, Allocated, Prestatie, allocation_start
from gateway.samples.xmlbuild import (
    add_months,
    first_of_month,
    last_of_month,
    previous_month,
)
from gateway.store import tables as t
from tests.store.test_rules_allocation_regie import fails, ok

A, B = BSNS[0], BSNS[1]


def declared(store, *prestaties, bsn=A, standard="ijw", **kw):
    return samples.declaration(standard, clients={bsn: list(prestaties)}, **kw)


@pytest.fixture
def allocated(store):
    ok(store, samples.allocation())
    return store


def test_tr333_declaratienummer_unique(allocated):
    ok(allocated, declared(allocated, Prestatie(), declaratienummer="D-1"))
    r = fails(allocated, declared(allocated, Prestatie(), declaratienummer="D-1"), "TR333")
    assert r.issues[0].retourcode == "9333" and r.issues[0].class_path.endswith("/Declaratie")


def test_tr318_no_period_before_the_last_one(allocated):
    last = previous_month()
    before = previous_month(last[0])
    ok(allocated, declared(allocated, Prestatie()))
    p = Prestatie(begindatum=before[0], einddatum=before[1])
    fails(allocated, declared(allocated, p, periode=before), "TR318")
    # a correction in the last period itself is allowed
    ok(allocated, declared(allocated, Prestatie(begindatum=before[0], einddatum=before[1])))


def _months_back(n: int) -> tuple[date, date]:
    """(first, last day) of the calendar month n months before this one."""
    first = add_months(first_of_month(clock.today()), -n)
    return first, last_of_month(first)


def _in(month: tuple[date, date], **kw) -> Prestatie:
    return Prestatie(begindatum=month[0], einddatum=month[1], **kw)


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr318_periods_follow_on_when_the_declaration_shows_care_in_between(store, standard):
    m4, m3, m2, m1 = (_months_back(n) for n in (4, 3, 2, 1))
    ok(store, samples.allocation(standard, products=(Allocated(ingangsdatum=m4[0]),)))
    ok(store, declared(store, _in(m3), periode=m3, standard=standard))
    # care in m2 declared with period m1: period m2 was skipped although care was delivered
    r = fails(store, declared(store, _in(m2), _in(m1), periode=m1, standard=standard), "TR318")
    issue = next(i for i in r.issues if i.rule == "TR318")
    assert issue.retourcode == "8214" and issue.class_path.endswith("/Declaratie")
    assert m2[0].strftime("%Y-%m") in issue.text
    # no care shown in m2: a gap is allowed (TR318 toelichting)
    ok(store, declared(store, _in(m1), periode=m1, standard=standard))
    # late care of m2, declared once m1 was declared: allowed (IV090)
    ok(store, declared(store, _in(m2), periode=m1, standard=standard))


def test_tr318_earlier_care_is_no_evidence_for_a_gap(store):
    m4, m3, m2 = (_months_back(n) for n in (4, 3, 2))
    ok(store, samples.allocation(products=(Allocated(ingangsdatum=m4[0]),)))
    ok(store, declared(store, _in(m4, referentienummer="P-M4"), periode=m4))
    # period m2 after m4: care of m4 itself (a correction: credit and new debit) says nothing
    # about m3, so the gap stands
    credit = _in(m4, referentienummer="C-M4", vorig_referentienummer="P-M4", debet_credit="C")
    r = ok(store, declared(store, credit, _in(m4, referentienummer="P-M4b", volume=6), periode=m2))
    assert "TR318" not in r.codes
    # going back to m3 now is IV090's case
    fails(store, declared(store, _in(m3), periode=m3), "TR318")


def test_tr314_referentienummer_unique(allocated):
    ok(allocated, declared(allocated, Prestatie(referentienummer="P-1")))
    r = fails(allocated, declared(allocated, Prestatie(referentienummer="P-1")), "TR314")
    assert r.issues[0].retourcode == "8021"


def test_tr323_credit_needs_an_accepted_debit(allocated):
    credit = Prestatie(referentienummer="C-1", vorig_referentienummer="P-1", debet_credit="C")
    fails(allocated, declared(allocated, credit), "TR323")
    ok(allocated, declared(allocated, Prestatie(referentienummer="P-1")))
    ok(allocated, declared(allocated, Prestatie(referentienummer="C-2", vorig_referentienummer="P-1", debet_credit="C")))


def test_tr390_credit_only_once(allocated):
    ok(allocated, declared(allocated, Prestatie(referentienummer="P-1")))
    ok(allocated, declared(allocated, Prestatie(referentienummer="C-1", vorig_referentienummer="P-1", debet_credit="C")))
    fails(allocated, declared(allocated, Prestatie(referentienummer="C-2", vorig_referentienummer="P-1", debet_credit="C")), "TR390")


def test_tr389_second_debit_only_after_a_credit(allocated):
    ok(allocated, declared(allocated, Prestatie(referentienummer="P-1")))
    fails(allocated, declared(allocated, Prestatie(referentienummer="P-2")), "TR389")
    # the credit and the replacing debit may travel together (IV086)
    credit = Prestatie(referentienummer="C-1", vorig_referentienummer="P-1", debet_credit="C")
    ok(allocated, declared(allocated, credit, Prestatie(referentienummer="P-3", volume=6)))


def test_tr338_prestatie_on_a_toewijzing_of_the_aanbieder(allocated):
    fails(allocated, declared(allocated, Prestatie(toewijzingnummer=999)), "TR338")
    fails(allocated, declared(allocated, Prestatie(), aanbieder="87654321"), "TR338")
    ok(allocated, declared(allocated, Prestatie()))


def test_tr304_prestatie_of_the_toewijzing_client(allocated):
    r = fails(allocated, declared(allocated, Prestatie(), bsn=B), "TR304")
    assert r.issues[0].retourcode == "8187"


def test_tr339_tr340_product_of_the_toewijzing(allocated):
    r = fails(allocated, declared(allocated, Prestatie(categorie="46", code="46A01")), "TR339")
    assert {"TR339", "TR340"} <= r.codes
    r = fails(allocated, declared(allocated, Prestatie(code="45A02")), "TR340")
    assert "TR339" not in r.codes


def test_tr341_eenheid_of_the_toewijzing(allocated):
    fails(allocated, declared(allocated, Prestatie(eenheid="14", volume=2)), "TR341")
    ok(allocated, declared(allocated, Prestatie(eenheid="01", volume=300, tarief=125)))  # minutes against hours


def test_tr384_no_declaration_on_a_deleted_toewijzing(store):
    ok(store, samples.allocation(products=(Allocated(einddatum=allocation_start(), reden_wijziging="13"),)))
    fails(store, declared(store, Prestatie()), "TR384")


def test_tr307_tr387_period_from_the_ingangsdatum(store):
    month = previous_month()
    ok(store, samples.allocation(products=(Allocated(ingangsdatum=month[0] + timedelta(days=9)),)))
    fails(store, declared(store, Prestatie()), "TR307")
    fails(store, declared(store, Prestatie(begindatum=month[0] + timedelta(days=10))), "TR387")
    ok(store, declared(store, Prestatie(begindatum=month[0] + timedelta(days=9))))


def test_tr387_begin_on_the_first(allocated):
    month = previous_month()
    r = fails(allocated, declared(allocated, Prestatie(begindatum=month[0] + timedelta(days=1))), "TR387")
    assert r.issues[0].retourcode == "9387"


def test_tr308_tr388_period_until_the_einddatum(store):
    month = previous_month()
    end = month[0] + timedelta(days=14)
    ok(store, samples.allocation(products=(Allocated(einddatum=end),)))
    fails(store, declared(store, Prestatie(volume=4)), "TR308")
    fails(store, declared(store, Prestatie(volume=4, einddatum=end - timedelta(days=1))), "TR388")
    ok(store, declared(store, Prestatie(volume=4, einddatum=end)))


def test_tr321_volume_per_period(allocated):
    r = fails(allocated, declared(allocated, Prestatie(volume=11)), "TR321")  # 10 hours per month
    assert r.issues[0].retourcode == "9321"
    ok(allocated, declared(allocated, Prestatie(volume=10)))


def test_tr321_weekly_volume_counts_iso_weeks(store):
    month = previous_month()
    weeks = ((month[1] - timedelta(days=month[1].weekday())) - (month[0] - timedelta(days=month[0].weekday()))).days // 7 + 1
    ok(store, samples.allocation(products=(Allocated(volume=2, frequentie="2"),)))
    fails(store, declared(store, Prestatie(volume=2 * weeks + 1)), "TR321")
    ok(store, declared(store, Prestatie(volume=2 * weeks)))


def test_tr322_total_over_the_term(store):
    months = [previous_month(), previous_month(previous_month()[0])]
    ok(store, samples.allocation(products=(Allocated(volume=12, frequentie="6"),)))
    ok(store, declared(store, Prestatie(volume=8, begindatum=months[1][0], einddatum=months[1][1]), periode=months[1]))
    r = fails(store, declared(store, Prestatie(volume=8)), "TR322")
    assert "TR321" not in r.codes
    ok(store, declared(store, Prestatie(volume=4)))


def test_tr369_budget(store):
    budget = Allocated(code=None, volume=None, eenheid=None, frequentie=None, budget=50000)
    ok(store, samples.allocation(products=(budget,)))
    euro = dict(eenheid="83", tarief=None, code="45A01")
    ok(store, declared(store, Prestatie(volume=30000, **euro)))
    earlier = previous_month(previous_month()[0])
    fails(store, declared(store, Prestatie(volume=30000, begindatum=earlier[0], einddatum=earlier[1], **euro)), "TR369")
    ok(store, declared(store, Prestatie(volume=20000, begindatum=earlier[0], einddatum=earlier[1], **euro)))


def test_partial_rejection_keeps_the_good_prestaties(allocated):
    good, bad = Prestatie(referentienummer="P-GOOD"), Prestatie(referentienummer="P-BAD", toewijzingnummer=999)
    r = ok(allocated, declared(allocated, good, bad))
    assert r.rejected_paths == ["/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[2]"]
    with allocated.engine.connect() as conn:
        rows = dict(conn.execute(select(t.prestaties.c.referentienummer, t.prestaties.c.status)).all())
    assert rows == {"P-GOOD": "accepted", "P-BAD": "rejected"}
    # a rejected prestatie cannot be credited (TR323), its number stays used (TR314)
    fails(allocated, declared(allocated, Prestatie(referentienummer="C", vorig_referentienummer="P-BAD", debet_credit="C")), "TR323")


def test_declared_total_for_the_budget_rule(allocated):
    ok(allocated, declared(allocated, Prestatie(referentienummer="P-1", volume=8)))  # 8 x 7500
    ok(allocated, declared(allocated, Prestatie(referentienummer="C-1", vorig_referentienummer="P-1", debet_credit="C", volume=8)))
    ok(allocated, declared(allocated, Prestatie(referentienummer="P-2", volume=4)))
    year = previous_month()[0].year
    with allocated.transaction() as tx:
        assert tx.state.declared_total(samples.AANBIEDER, year) == 4 * 7500
        assert tx.state.declared_total(samples.AANBIEDER, year, gemeente=samples.GEMEENTE) == 4 * 7500
        assert tx.state.declared_total(samples.AANBIEDER, year, gemeente="0363") == 0
        assert tx.state.declared_total(samples.AANBIEDER, year - 1) == 0


def test_wmo_declaration_rules(store):
    ok(store, samples.allocation("iwmo"))
    ok(store, declared(store, Prestatie(referentienummer="W-1"), standard="iwmo"))
    fails(store, declared(store, Prestatie(referentienummer="W-1"), standard="iwmo"), "TR314")
    fails(store, declared(store, Prestatie(), standard="iwmo"), "TR389")
    # the jeugd domain is separate: no toewijzing there
    fails(store, declared(store, Prestatie()), "TR338")


def test_helpers_are_consistent():
    assert first_of_month(date(2026, 3, 14)) == date(2026, 3, 1)
    assert last_of_month(add_months(date(2026, 1, 31), 1)) == date(2026, 2, 28)


def test_fast_prestatie_paths_equal_element_path():
    from lxml import etree

    from validators import extract
    from validators.paths import element_path

    raw = samples.declaration(clients={A: [Prestatie(), Prestatie()], B: [Prestatie()]})
    d = extract.declaratie(etree.fromstring(raw))
    paths = extract.prestatie_paths(d)
    assert [paths[id(p.el)] for p in d.prestaties] == [element_path(p.el) for p in d.prestaties]
    assert {paths[id(p.client_el)] for p in d.prestaties} == {element_path(p.client_el) for p in d.prestaties}


def test_partial_rejection_in_a_declaration_of_several_clients(allocated):
    ok(allocated, samples.allocation(bsn=B, products=(Allocated(toewijzingnummer=2002),)))
    raw = samples.declaration(clients={A: [Prestatie(referentienummer="A-1")],
                                       B: [Prestatie(referentienummer="B-1", toewijzingnummer=2002),
                                           Prestatie(referentienummer="B-2", toewijzingnummer=2002, categorie="46", code="46A01")]})
    r = ok(allocated, raw)
    assert r.rejected_paths == ["/Bericht/Declaratie/Clienten/Client[2]/Prestaties/Prestatie[2]"]
    paths = {(i.rule, i.path) for i in r.issues}
    assert ("TR340", "/Bericht/Declaratie/Clienten/Client[2]/Prestaties/Prestatie[2]/ProductCode") in paths


def test_tr321_iwmo_huishoudelijke_hulp_weekly_up_to_six_weeks(store):
    hh = Allocated(categorie="01", code="01A01", volume=3, frequentie="2")
    ok(store, samples.allocation("iwmo", products=(hh,)))
    p = dict(categorie="01", code="01A01")
    fails(store, declared(store, Prestatie(volume=19, **p), standard="iwmo"), "TR321")
    ok(store, declared(store, Prestatie(volume=18, **p), standard="iwmo"))


# --- TR341 on aspecific and generic toewijzingen: the contract's unit ----------------------------

CONTRACT = """\
region: tr341-test
name: TR341 test region
version: "1"
valid_from: 2020-01-01
municipalities:
  - {cbs: "0599", name: Rotterdam}
lots:
  - {id: jeugd, name: Jeugd, law: jeugd}
  - {id: wmo, name: Wmo, law: wmo}
products:
  - {category: "45", code: 45A01, name: Begeleiding, lot: jeugd, law: jeugd, units: ["04"],
     tariffs: [{euro: 75.00, unit: "04", valid_from: 2020-01-01}]}
  - {category: "45", code: 45A02, name: Verblijf, lot: jeugd, law: jeugd, units: ["14"],
     tariffs: [{euro: 75.00, unit: "14", valid_from: 2020-01-01}]}
  - {category: "02", code: 02A01, name: Begeleiding, lot: wmo, law: wmo, units: ["04"],
     tariffs: [{euro: 75.00, unit: "04", valid_from: 2020-01-01}]}
providers:
  - agb: "12345678"
    name: Aanbieder
    contracts:
      - {lot: jeugd, valid_from: 2020-01-01}
      - {lot: wmo, valid_from: 2020-01-01}
"""


@pytest.fixture
def contracts():
    from gateway.contracts import ContractRegistry

    reg = ContractRegistry()
    reg.load_text(CONTRACT, actor="test", source="tr341.yaml")
    return reg


def _judged(store, raw, contracts, verdict):
    from tests.store.conftest import send

    r = send(store, raw, contracts=contracts)
    assert r.verdict == verdict, r.issues
    return r


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr341_aspecific_toewijzing_uses_the_contract_unit(store, contracts, standard):
    ok(store, samples.allocation(standard, products=(Allocated(code=None),)))
    r = _judged(store, declared(store, Prestatie(eenheid="14", volume=2), standard=standard), contracts, "rejected")
    tr341 = [i for i in r.issues if i.rule == "TR341"]
    assert tr341 and tr341[0].retourcode == "9341" and "contracted unit (04)" in tr341[0].text
    assert tr341[0].class_path.endswith("/Prestatie")
    _judged(store, declared(store, Prestatie(volume=8), standard=standard), contracts, "accepted")


def test_tr341_aspecific_allows_minutes_against_a_contract_in_hours(store, contracts):
    ok(store, samples.allocation(products=(Allocated(code=None),)))
    r = _judged(store, declared(store, Prestatie(eenheid="01", volume=60, tarief=125)), contracts, "accepted")
    assert "TR341" not in r.codes


def test_tr341_generic_toewijzing_uses_the_unit_of_the_declared_product(store, contracts):
    generic = Allocated(categorie=None, code=None, budget=500000)
    ok(store, samples.allocation(products=(generic,)))
    # 45A02 is contracted per etmaal (14): hours do not fit it, etmalen do
    r = _judged(store, declared(store, Prestatie(code="45A02", eenheid="04", volume=2)), contracts, "rejected")
    assert "TR341" in r.codes
    r = _judged(store, declared(store, Prestatie(code="45A02", eenheid="14", volume=2)), contracts, "accepted")
    assert "TR341" not in r.codes


def test_tr341_aspecific_without_contract_or_product_finds_nothing(store, contracts):
    ok(store, samples.allocation(products=(Allocated(code=None),)))
    # no registry: nothing to compare with
    r = ok(store, declared(store, Prestatie(eenheid="14", volume=2)))
    assert "TR341" not in r.codes
    # a product the region does not list: CR001 may refuse it, TR341 has nothing to say
    earlier = previous_month(previous_month()[0])
    p = Prestatie(code="45A09", eenheid="14", volume=2, begindatum=earlier[0], einddatum=earlier[1])
    from tests.store.conftest import send

    r = send(store, declared(store, p), contracts=contracts)
    assert "TR341" not in r.codes


# --- TR321 / TR322: partial periods (IV076-IV078) and open-ended toewijzingen -------------------


def _sundays_in(begin: date, end: date) -> int:
    return sum(1 for n in range((end - begin).days + 1) if (begin + timedelta(days=n)).weekday() == 6)


def _month_starting_on_a_weekday() -> int:
    """How many months back (2..13) lies a month whose 1st is Monday..Saturday."""
    return next(n for n in range(2, 14) if _months_back(n)[0].weekday() != 6)


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr321_output_weekly_last_broken_week_counts_with_the_last_sunday(store, standard):
    # IV076/IV077 output: a toewijzing ending on a weekday gets its last (broken) week in the
    # period of its last Sunday, and nothing in the period it ends in.
    n = _month_starting_on_a_weekday()
    end_month, before = _months_back(n), _months_back(n + 1)
    end_day = end_month[0]  # a weekday: the last Sunday of the toewijzing lies in `before`
    weekly = Allocated(ingangsdatum=_months_back(n + 2)[0], einddatum=end_day, volume=3, eenheid="82", frequentie="2")
    ok(store, samples.allocation(standard, products=(weekly,)))
    most = 3 * (_sundays_in(*before) + 1)
    out = dict(eenheid="82")
    r = fails(store, declared(store, _in(before, volume=most + 1, **out), periode=before, standard=standard), "TR321")
    assert f"the {most} allowed" in next(i.text for i in r.issues if i.rule == "TR321")
    ok(store, declared(store, _in(before, volume=most, **out), periode=before, standard=standard))
    # the period holding only the broken last days has nothing left to declare
    last = Prestatie(begindatum=end_day, einddatum=end_day, volume=1, **out)
    fails(store, declared(store, last, periode=end_month, standard=standard), "TR321")


def test_tr321_inspanning_broken_month_allows_the_full_monthly_volume(store):
    # IV078 example 2: a toewijzing from the 14th of a month may declare the whole 15 hours there
    m2 = _months_back(2)
    ok(store, samples.allocation(products=(Allocated(ingangsdatum=m2[0] + timedelta(days=13), volume=15),)))
    broken = Prestatie(begindatum=m2[0] + timedelta(days=13), einddatum=m2[1], volume=15)
    ok(store, declared(store, broken, periode=m2))
    over = Prestatie(begindatum=m2[0] + timedelta(days=13), einddatum=m2[1], volume=16)
    fails(store, declared(store, over, periode=m2), "TR321")


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_tr322_open_ended_toewijzing_counts_until_the_declaratieperiode(store, standard):
    m4, m3, m2 = (_months_back(n) for n in (4, 3, 2))
    open_ended = Allocated(ingangsdatum=m4[0], einddatum=None)  # 10 hours a month, no end
    ok(store, samples.allocation(standard, products=(open_ended,)))
    ok(store, declared(store, _in(m4, volume=10), periode=m4, standard=standard))
    ok(store, declared(store, _in(m3, volume=10), periode=m3, standard=standard))
    # a new version moves the Ingangsdatum to m2: 30 hours over a term of one month so far
    moved = Allocated(ingangsdatum=m2[0], einddatum=None, toewijzingsdatum=clock.today() - timedelta(days=1))
    ok(store, samples.allocation(standard, products=(moved,)))
    r = fails(store, declared(store, _in(m2, volume=10), periode=m2, standard=standard), "TR322")
    assert "TR321" not in r.codes
    assert "more than the 10 allowed" in next(i.text for i in r.issues if i.rule == "TR322")


def test_tr322_open_ended_toewijzing_within_its_months_is_accepted(store):
    m4, m3, m2 = (_months_back(n) for n in (4, 3, 2))
    ok(store, samples.allocation(products=(Allocated(ingangsdatum=m4[0], einddatum=None),)))
    for month in (m4, m3, m2):
        r = ok(store, declared(store, _in(month, volume=10), periode=month))
        assert "TR322" not in r.codes


def test_tr319_in_message_rejects_its_prestatie_and_the_later_levels_still_run(allocated):
    """TR319 runs with the in-message rules but carries 9319 on its Prestatie: it is no level-2
    failure, so the cross-message rules still judge the other prestaties (TR338 here)."""
    from tests.store.conftest import send
    from validators.validate import validate_bytes

    begin, _ = previous_month()
    prev = previous_month(begin)
    raw = declared(allocated, Prestatie(referentienummer="GOOD", begindatum=prev[0], einddatum=prev[1]),
                   Prestatie(referentienummer="LATE"),  # last month: after the DeclaratiePeriode
                   Prestatie(referentienummer="BAD", begindatum=prev[0], einddatum=prev[1], toewijzingnummer=9999),
                   periode=prev)
    level2 = validate_bytes(raw, today=clock.today()).issues
    assert [(i.rule, i.retourcode) for i in level2] == [("TR319", "9319")]
    r = send(allocated, raw, prior_issues=level2)
    assert r.verdict == "accepted" and {"TR319", "TR338"} <= r.codes
    prestatie = "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie"
    assert r.rejected_paths == [f"{prestatie}[2]", f"{prestatie}[3]"]


def test_tr322_and_tr369_in_one_declaration_each_count_their_own_total(store):
    """TR322 (in the toewijzing's unit: minutes against hours) and TR369 (as declared, against a
    Budget) share one pass over the prestaties: each must still see its own total."""
    hours = Allocated(toewijzingnummer=11, volume=2, frequentie="6")  # 2 hours over the whole term
    budget = Allocated(toewijzingnummer=12, code=None, volume=None, eenheid=None, frequentie=None, budget=50000)
    ok(store, samples.allocation(products=(hours, budget)))
    euro = dict(eenheid="83", tarief=None, code="45A01", toewijzingnummer=12)
    minutes = dict(eenheid="01", tarief=125, toewijzingnummer=11)
    # 90 minutes = 1.5 hours fits the 2 hours; 40,000 fits the Budget: accepted
    ok(store, declared(store, Prestatie(volume=90, **minutes), Prestatie(volume=40000, **euro)))
    second = declared(store, Prestatie(referentienummer="M-2", volume=60, **minutes),
                      Prestatie(referentienummer="E-2", volume=5000, **euro),
                      Prestatie(referentienummer="E-3", volume=6000, **euro))
    r = fails(store, second, "TR322")
    by_rule = {i.rule: i for i in r.issues if i.rule in ("TR322", "TR369")}
    assert set(by_rule) == {"TR322", "TR369"}, r.issues
    assert "reaches 2.5" in by_rule["TR322"].text
    assert "declared 51000" in by_rule["TR369"].text
    assert sum(1 for i in r.issues if i.rule == "TR369") == 1  # E-2 (45,000) still fits
