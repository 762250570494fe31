"""RS restrictions are level 1: our schemas enforce them, so no rule code of ours is needed.

A sample of them, each broken in an otherwise valid message: the XSD reports it (and a retour is
replaced by a transport rejection).
"""

from __future__ import annotations

import pytest
from rule_helpers import STANDARDS, Msg, prefix

from gateway import samples


def xsd_paths(msg: Msg) -> list[str | None]:
    """Paths the XSD reports, once each (one value may break several facets)."""
    return list(dict.fromkeys(i.path for i in msg.xsd_issues()))


def sample(standard: str, number: str) -> Msg:
    return Msg(samples.build(prefix(standard) + number))


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs032_date_without_time_zone(standard):
    msg = sample(standard, "301")
    msg.set("Client/ToegewezenProducten/ToegewezenProduct/Ingangsdatum", "2026-01-01Z")
    assert xsd_paths(msg) == ["/Bericht/Client/ToegewezenProducten/ToegewezenProduct/Ingangsdatum"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs034_time_without_time_zone(standard):
    msg = sample(standard, "301")
    msg.set("Client/ToegewezenProducten/ToegewezenProduct/Toewijzingstijd", "09:30:00+01:00")
    assert xsd_paths(msg) == ["/Bericht/Client/ToegewezenProducten/ToegewezenProduct/Toewijzingstijd"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs033_no_empty_elements(standard):
    msg = sample(standard, "305")
    msg.set("Client/Naam/Geslachtsnaam/Achternaam", "")
    assert xsd_paths(msg) == ["/Bericht/Client/Naam/Geslachtsnaam/Achternaam"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs035_rs036_gemeente_and_agb_codes(standard):
    msg = sample(standard, "305")
    msg.set("Header/Afzender", "1234567")  # AGB: 8 digits
    msg.set("Header/Ontvanger", "599")  # gemeente: 4 digits
    assert xsd_paths(msg) == ["/Bericht/Header/Afzender", "/Bericht/Header/Ontvanger"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs037_bsn_nine_digits(standard):
    msg = sample(standard, "307")
    msg.set("Client/Bsn", "99990000")
    assert xsd_paths(msg) == ["/Bericht/Client/Bsn"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs045_voorletters_contiguous(standard):
    msg = sample(standard, "315")
    msg.set("Client/Naam/Voorletters", "E.J.")
    assert xsd_paths(msg) == ["/Bericht/Client/Naam/Voorletters"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs048_version_number(standard):
    msg = sample(standard, "319")
    msg.set("Header/XsdVersie/BerichtXsdVersie", "1.0")
    assert xsd_paths(msg) == ["/Bericht/Header/XsdVersie/BerichtXsdVersie"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs017_identificatie_max_12(standard):
    msg = sample(standard, "323")
    msg.set("Header/BerichtIdentificatie/Identificatie", "A" * 13)
    assert xsd_paths(msg) == ["/Bericht/Header/BerichtIdentificatie/Identificatie"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_rs047_berichtcode(standard):
    msg = sample(standard, "317")
    msg.set("Header/BerichtCode", "999")
    assert xsd_paths(msg) == ["/Bericht/Header/BerichtCode"]
