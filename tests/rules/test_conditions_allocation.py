"""301 conditions and constraints on client, contacts and toewijzingen: CD005, CD007, CD009, CD025,
CD034, CS050, CS089, CS318, CS335, CS336."""

from __future__ import annotations

from datetime import date

import pytest
from rule_helpers import STANDARDS, Msg

from gateway import samples

CONTACT = "Client/Contactgegevens/Contact"
ADRES = f"{CONTACT}/Adres"
TP = "Client/ToegewezenProducten/ToegewezenProduct"


def alloc(standard, **kw) -> Msg:
    return Msg(samples.allocation(standard, relatie=True, **kw))


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd005_landcode_with_postcode_only(standard):
    assert alloc(standard).issues("CD005") == []
    msg = alloc(standard).drop(f"{ADRES}/LandCode")
    assert msg.locations("CD005") == [[f"/Bericht/{ADRES}/Postcode"]]  # never the absent element
    msg = alloc(standard)
    msg.set(f"{CONTACT}/Soort", "02")  # no Postcode needed (CD034)
    msg.drop(f"{ADRES}/Postcode")
    msg.drop(f"{ADRES}/Huis")
    msg.set(f"{ADRES}/LandCode", "BE")
    assert msg.paths("CD005") == [f"/Bericht/{ADRES}/LandCode"]


def _communicatie(msg: Msg, vorm: str, taal: str | None) -> None:
    naam = msg.at("Client/Naam")
    comm = msg.new(msg.at("Client"), "Communicatie")
    comm.append(msg.new(comm, "Vorm", vorm))
    if taal is not None:
        comm.append(msg.new(comm, "Taal", taal))
    naam.addnext(comm)


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd007_taal_only_with_tolk_taal(standard):
    for vorm, taal, expected in [
        ("1", "Pools", []),
        ("2", None, []),
        ("1", None, [["/Bericht/Client/Communicatie/Vorm"]]),
        ("2", "Pools", [["/Bericht/Client/Communicatie/Vorm", "/Bericht/Client/Communicatie/Taal"]]),
    ]:
        msg = alloc(standard)
        _communicatie(msg, vorm, taal)
        assert msg.locations("CD007") == expected, (vorm, taal)


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd009_periode_only_for_temporary_address(standard):
    msg = alloc(standard)
    periode = msg.new(msg.at(CONTACT), "Periode")
    periode.append(msg.new(periode, "Begindatum", date(2026, 1, 1)))
    msg.at(CONTACT).append(periode)
    assert msg.locations("CD009") == [[f"/Bericht/{CONTACT}/Soort", f"/Bericht/{CONTACT}/Periode"]]
    msg.set(f"{CONTACT}/Soort", "04")
    assert msg.issues("CD009") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd025_huis_mandatory_for_nl(standard):
    assert alloc(standard).issues("CD025") == []
    msg = alloc(standard).drop(f"{ADRES}/Huis")
    assert msg.locations("CD025") == [[f"/Bericht/{ADRES}/LandCode"]]
    msg.set(f"{ADRES}/LandCode", "DE")
    assert msg.issues("CD025") == []


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("soort", ["01", "03"])
def test_cd034_postcode_mandatory_for_brp_and_stay_address(standard, soort):
    msg = alloc(standard).set(f"{CONTACT}/Soort", soort)
    assert msg.issues("CD034") == []
    msg.drop(f"{ADRES}/Postcode")
    assert msg.locations("CD034") == [[f"/Bericht/{CONTACT}/Soort"]]
    msg.set(f"{CONTACT}/Soort", "02")
    assert msg.issues("CD034") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs089_dutch_postcode_format(standard):
    assert alloc(standard).issues("CS089") == []
    assert alloc(standard).set(f"{ADRES}/Postcode", "3011ab").issues("CS089") == []  # letters of either case
    for bad in ("3011 AB", "0123AB", "301AB"):
        msg = alloc(standard).set(f"{ADRES}/Postcode", bad)
        assert msg.locations("CS089") == [[f"/Bericht/{ADRES}/Postcode", f"/Bericht/{ADRES}/LandCode"]], bad
    msg = alloc(standard).set(f"{ADRES}/Postcode", "B-1000").set(f"{ADRES}/LandCode", "BE")
    assert msg.issues("CS089") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs050_naamgebruik_with_and_without_partnernaam(standard):
    msg = alloc(standard)
    assert msg.issues("CS050") == []
    msg.set("Client/Relaties/Relatie/Naam/NaamGebruik", "2")
    assert msg.paths("CS050") == ["/Bericht/Client/Relaties/Relatie/Naam/NaamGebruik"]
    # Without a Partnernaam the rule text allows 1 or 6, in iWmo too (the iWmo stylesheet
    # allows only 1; tests/conformance/known_differences.toml).
    msg.set("Client/Relaties/Relatie/Naam/NaamGebruik", "6")
    assert msg.issues("CS050") == []
    msg.set("Client/Relaties/Relatie/Naam/NaamGebruik", "2")
    partner = msg.new(msg.at("Client/Relaties/Relatie/Naam"), "Partnernaam")
    partner.append(msg.new(partner, "Achternaam", "Bakker"))
    msg.at("Client/Relaties/Relatie/Naam/Geslachtsnaam").addnext(partner)
    assert msg.issues("CS050") == []
    msg.set("Client/Relaties/Relatie/Naam/NaamGebruik", "6")
    naam = "/Bericht/Client/Relaties/Relatie/Naam"
    assert msg.locations("CS050") == [[f"{naam}/Partnernaam", f"{naam}/NaamGebruik"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs318_client_is_a_natural_person(standard):
    msg = alloc(standard)
    assert msg.issues("CS318") == []
    msg.set("Client/Relaties/Relatie/Naam/NaamGebruik", "6")  # allowed for a relatie
    assert msg.issues("CS318") == []
    msg.set("Client/Naam/NaamGebruik", "6")
    assert msg.paths("CS318") == ["/Bericht/Client/Naam/NaamGebruik"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs335_reason_13_only_when_removed(standard):
    d = date(2026, 2, 1)
    removed = samples.Allocated(ingangsdatum=d, einddatum=d, reden_wijziging="13")
    assert alloc(standard, products=(removed,)).issues("CS335") == []
    shortened = samples.Allocated(ingangsdatum=d, einddatum=date(2026, 3, 1), reden_wijziging="13")
    assert alloc(standard, products=(shortened,)).locations("CS335") == [
        [f"/Bericht/{TP}/Ingangsdatum", f"/Bericht/{TP}/Einddatum"]
    ]
    open_end = samples.Allocated(ingangsdatum=d, einddatum=None, reden_wijziging="13")
    assert alloc(standard, products=(open_end,)).locations("CS335") == [[f"/Bericht/{TP}/Ingangsdatum"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs336_reason_01_not_used(standard):
    assert alloc(standard, products=(samples.Allocated(reden_wijziging="05"),)).issues("CS336") == []
    msg = alloc(standard, products=(samples.Allocated(reden_wijziging="01"),))
    assert msg.paths("CS336") == [f"/Bericht/{TP}/RedenWijziging"]
