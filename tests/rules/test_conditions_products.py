"""Conditions on the product classes of 301, 315 and 317: CD041, CD043, CD066-CD068, CD075-CD080,
CD095, CD096, CS003, CS338, CS343 — each broken and kept, for iJw and iWmo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from rule_helpers import STANDARDS, Msg

from gateway import samples

PERIODE = "/Bericht/Client/Contactgegevens/Contact/Periode"


@dataclass(frozen=True)
class Kind:
    """One product class: how to build a message with one such product, and where it sits."""

    name: str
    path: str
    end: str  # name of the end-date element
    start_field: str  # parameter name of the start date

    def build(self, standard: str, **kw) -> Msg:
        if "start" in kw:
            kw[self.start_field] = kw.pop("start")
        if self.name == "301":
            return Msg(samples.allocation(standard, products=(samples.Allocated(**kw),)))
        if self.name == "315":
            return Msg(samples.request(standard, products=(samples.Requested(**kw),)))
        if self.name == "317 NieuwProduct":
            return Msg(samples.change_request(standard, new=(samples.NewProduct(**kw),)))
        return Msg(samples.change_request(standard, to_change=(samples.ToChange(**kw),)))


TOEGEWEZEN = Kind("301", "/Bericht/Client/ToegewezenProducten/ToegewezenProduct", "Einddatum", "ingangsdatum")
AANGEVRAAGD = Kind(
    "315", "/Bericht/Client/AangevraagdeProducten/AangevraagdProduct", "ToewijzingEinddatum", "ingangsdatum"
)
NIEUW = Kind(
    "317 NieuwProduct", "/Bericht/Client/Verzoek/NieuweProducten/NieuwProduct", "Einddatum", "gewenste_ingangsdatum"
)
TE_WIJZIGEN = Kind(
    "317 TeWijzigenProduct",
    "/Bericht/Client/Verzoek/TeWijzigenProducten/TeWijzigenProduct",
    "Einddatum",
    "gewenste_ingangsdatum",
)
WITH_PRODUCT = [TOEGEWEZEN, AANGEVRAAGD, NIEUW]
ALL_FOUR = [TOEGEWEZEN, AANGEVRAAGD, NIEUW, TE_WIJZIGEN]
ids = lambda k: k.name  # noqa: E731


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("kind", WITH_PRODUCT, ids=ids)
def test_cd041_omvang_mandatory_with_product_code(standard, kind):
    assert kind.build(standard).issues("CD041") == []
    assert kind.build(standard, volume=None).locations("CD041") == [[f"{kind.path}/Product/Code"]]
    aspecific = kind.build(standard, code=None, volume=None)
    assert aspecific.issues("CD041") == []


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("kind", ALL_FOUR, ids=ids)
def test_cd075_end_mandatory_with_budget(standard, kind):
    assert kind.build(standard, volume=None, budget=50000).issues("CD075") == []
    msg = kind.build(standard, volume=None, budget=50000, einddatum=None)
    assert msg.locations("CD075") == [[f"{kind.path}/Budget"]]  # never the absent end


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("kind", ALL_FOUR, ids=ids)
def test_cd076_end_mandatory_with_weekly_frequency(standard, kind):
    assert kind.build(standard, einddatum=None, frequentie="4").issues("CD076") == []
    assert kind.build(standard, frequentie="2").issues("CD076") == []
    msg = kind.build(standard, einddatum=None, frequentie="2")
    assert msg.locations("CD076") == [[f"{kind.path}/Omvang/Frequentie"]]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("kind", ALL_FOUR, ids=ids)
def test_cd077_cd078_omvang_and_budget_exclude_each_other(standard, kind):
    both = kind.build(standard, volume=10, eenheid="04", frequentie="4", budget=50000)
    assert both.locations("CD077") == [[f"{kind.path}/Omvang", f"{kind.path}/Budget"]]
    assert both.locations("CD078") == [[f"{kind.path}/Omvang", f"{kind.path}/Budget"]]
    only_budget = kind.build(standard, volume=None, budget=50000)
    assert only_budget.issues("CD077") == [] and only_budget.issues("CD078") == []
    only_omvang = kind.build(standard)
    assert only_omvang.issues("CD077") == [] and only_omvang.issues("CD078") == []


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("kind", WITH_PRODUCT, ids=ids)
def test_cd079_product_mandatory_without_budget(standard, kind):
    assert kind.build(standard, categorie=None, code=None, volume=None, budget=50000).issues("CD079") == []
    msg = kind.build(standard, categorie=None, code=None, volume=None)
    assert msg.locations("CD079") == [[kind.path]]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize(
    ("code", "kind"), [("CD080", TOEGEWEZEN), ("CD095", AANGEVRAAGD), ("CD096", NIEUW)], ids=["301", "315", "317"]
)
def test_cd080_cd095_cd096_no_omvang_without_code_after_2020(standard, code, kind):
    common = dict(code=None, volume=10, eenheid="04", frequentie="4")
    assert kind.build(standard, **common, einddatum=None).locations(code) == [[f"{kind.path}/Omvang"]]
    after = kind.build(standard, **common, einddatum=date(2030, 1, 31))
    # the end date the condition read is a Locatie too (it precedes the Omvang in the message)
    assert after.locations(code) == [[f"{kind.path}/{kind.end}", f"{kind.path}/Omvang"]]
    # Toewijzingen ending by 2020-12-31 may still carry an Omvang without a Code.
    before = kind.build(standard, **common, start=date(2020, 6, 1), einddatum=date(2020, 12, 31))
    assert before.issues(code) == []
    assert kind.build(standard, code=None, volume=None).issues(code) == []


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("kind", ALL_FOUR, ids=ids)
def test_cs003_end_not_before_start(standard, kind):
    start = date(2030, 3, 1)
    assert kind.build(standard, start=start, einddatum=start).issues("CS003") == []
    msg = kind.build(standard, start=start, einddatum=date(2030, 2, 28))
    [locations] = msg.locations("CS003")  # the end date and the start it is compared with
    assert locations[-1] == f"{kind.path}/{kind.end}" and len(locations) == 2
    assert locations[0].rsplit("/", 1)[1] in ("Ingangsdatum", "ToewijzingIngangsdatum", "GewensteIngangsdatum")


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs003_contact_periode(standard):
    msg = Msg(samples.allocation(standard))
    contact = msg.at("Client/Contactgegevens/Contact")
    msg.set("Client/Contactgegevens/Contact/Soort", "04")
    periode = msg.new(contact, "Periode")
    periode.append(msg.new(periode, "Begindatum", date(2026, 5, 1)))
    periode.append(msg.new(periode, "Einddatum", date(2026, 4, 30)))
    contact.append(periode)
    assert msg.locations("CS003") == [[f"{PERIODE}/Begindatum", f"{PERIODE}/Einddatum"]]
    msg.set("Client/Contactgegevens/Contact/Periode/Einddatum", "2026-05-01")
    assert msg.issues("CS003") == []
    # An open period may have an Einddatum alone: nothing to compare it with (the official
    # stylesheet flags it; tests/conformance/known_differences.toml).
    msg.drop("Client/Contactgegevens/Contact/Periode/Begindatum")
    assert msg.issues("CS003") == []


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize(
    ("code", "kind"),
    [("CS338", TOEGEWEZEN), ("CS338", NIEUW), ("CS338", TE_WIJZIGEN), ("CS343", AANGEVRAAGD)],
    ids=["301", "317-new", "317-change", "315"],
)
@pytest.mark.parametrize("eenheid", ["14", "16", "83", "84"])
def test_cs338_cs343_frequency_for_period_units(standard, code, kind, eenheid):
    daily = dict(volume=3, eenheid=eenheid, frequentie="1")
    # The condition is on the Eenheid: it is flagged with the Frequentie and the end date it read.
    omvang = [f"{kind.path}/Omvang/Eenheid", f"{kind.path}/Omvang/Frequentie"]
    ended = kind.build(standard, **daily, einddatum=date(2030, 1, 31))
    assert ended.locations(code) == [[f"{kind.path}/{kind.end}", *omvang]]
    assert kind.build(standard, **daily, einddatum=None).locations(code) == [omvang]
    assert kind.build(standard, volume=3, eenheid=eenheid, frequentie="2").issues(code) == []
    old = kind.build(standard, **daily, start=date(2020, 6, 1), einddatum=date(2020, 12, 31))
    assert old.issues(code) == []
    assert kind.build(standard, volume=3, eenheid="04", frequentie="1").issues(code) == []


AP = AANGEVRAAGD.path


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd043_beschikking_ingangsdatum_with_beschikkingnummer(standard):
    assert AANGEVRAAGD.build(standard).issues("CD043") == []
    both = AANGEVRAAGD.build(standard, beschikkingnummer=123, beschikking_ingangsdatum=date(2026, 1, 1))
    assert both.issues("CD043") == []
    assert AANGEVRAAGD.build(standard, beschikkingnummer=123).locations("CD043") == [[f"{AP}/BeschikkingNummer"]]
    only_date = AANGEVRAAGD.build(standard, beschikking_ingangsdatum=date(2026, 1, 1))
    assert only_date.paths("CD043") == [f"{AP}/BeschikkingIngangsdatum"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd066_no_name_when_agb_code_given(standard):
    assert AANGEVRAAGD.build(standard).issues("CD066") == []
    msg = AANGEVRAAGD.build(standard, verwijzer_naam="Dr. Visser", verwijzer_zorgverlenercode="01234567")
    assert msg.locations("CD066") == [[f"{AP}/Verwijzer/{n}" for n in ("Type", "Naam", "ZorgverlenerCode")]]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("type_", ["02", "03", "04", "05"])
def test_cd067_name_when_no_agb_code(standard, type_):
    assert AANGEVRAAGD.build(standard, verwijzer_type=type_, verwijzer_naam="Dr. Visser").issues("CD067") == []
    msg = AANGEVRAAGD.build(standard, verwijzer_type=type_, verwijzer_naam=None, verwijzer_zorgverlenercode=None)
    assert msg.locations("CD067") == [[f"{AP}/Verwijzer/Type"]]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("type_", ["01", "06", "08"])
def test_cd068_no_agb_code_for_other_referrers(standard, type_):
    assert AANGEVRAAGD.build(standard, verwijzer_type=type_, verwijzer_naam="Gemeente").issues("CD068") == []
    msg = AANGEVRAAGD.build(standard, verwijzer_type=type_, verwijzer_zorgverlenercode="01234567")
    assert msg.locations("CD068") == [[f"{AP}/Verwijzer/Type", f"{AP}/Verwijzer/ZorgverlenerCode"]]
