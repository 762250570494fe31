"""Toewijzing rules: TR006, TR061, TR302 (with the iWmo categories 11-14 exception)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from rule_helpers import STANDARDS, Msg

from gateway import samples

TP = "/Bericht/Client/ToegewezenProducten/ToegewezenProduct"


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr006_contact_without_phone_or_house_and_postcode(standard):
    msg = Msg(samples.allocation(standard, relatie=True))
    assert msg.issues("TR006") == []
    # The client's BRP contact loses its Huis (Postcode alone is not enough) ...
    msg.drop("Client/Contactgegevens/Contact/Adres/Huis")
    msg.drop("Client/Contactgegevens/Contact/Adres/LandCode")  # no NL, so CD025 does not apply
    # ... and the relatie's contact loses its Telefoon.
    msg.drop("Client/Relaties/Relatie/Contact/Telefoon")
    assert msg.paths("TR006") == [
        "/Bericht/Client/Contactgegevens/Contact",
        "/Bericht/Client/Relaties/Relatie/Contact",
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr006_phone_alone_is_enough(standard):
    msg = Msg(samples.allocation(standard, relatie=True))
    assert msg.at("Client/Relaties/Relatie/Contact/Telefoon") is not None
    assert msg.issues("TR006") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr061_client_needs_brp_correspondence_or_stay_address(standard):
    msg = Msg(samples.allocation(standard))
    assert msg.issues("TR061") == []
    msg.set("Client/Contactgegevens/Contact/Soort", "04")
    msg.drop("Client/Contactgegevens/Contact/Adres/Postcode")  # keep CD034/CD005 out of the way
    msg.drop("Client/Contactgegevens/Contact/Adres/LandCode")
    msg.drop("Client/Contactgegevens/Contact/Adres/Huis")
    # at every Contact the check looked at
    assert msg.locations("TR061") == [["/Bericht/Client/Contactgegevens/Contact"]]
    second = msg.copy_after("Client/Contactgegevens/Contact")
    second.find("{*}Soort").text = "05"
    assert msg.locations("TR061", schema_valid=False) == [
        ["/Bericht/Client/Contactgegevens/Contact[1]", "/Bericht/Client/Contactgegevens/Contact[2]"]
    ]
    msg.drop("Client/Contactgegevens/Contact[2]")
    msg.set("Client/Contactgegevens/Contact/Soort", "02")
    assert msg.issues("TR061") == []


def _alloc(standard, *products):
    return Msg(samples.allocation(standard, products=products))


S = date(2026, 1, 1)


def P(nr, start, end, cat=samples.AUTO, code=samples.AUTO, **kw):  # noqa: N802 (short test factory)
    return samples.Allocated(toewijzingnummer=nr, categorie=cat, code=code, ingangsdatum=start, einddatum=end, **kw)


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr302_same_product_overlapping_periods(standard):
    cat = samples.DEFAULT_PRODUCT[standard][0]
    # Back-to-back periods of one product are fine.
    msg = _alloc(standard, P(1, S, date(2026, 3, 31)), P(2, date(2026, 4, 1), date(2026, 6, 30)))
    assert msg.issues("TR302") == []
    # One day of overlap is stacking: both toewijzingen are reported.
    msg = _alloc(standard, P(1, S, date(2026, 4, 1)), P(2, date(2026, 4, 1), date(2026, 6, 30)))
    assert msg.paths("TR302") == [f"{TP}[1]", f"{TP}[2]"]
    # Different codes in one category may overlap.
    msg = _alloc(standard, P(1, S, None, cat, f"{cat}A01"), P(2, S, None, cat, f"{cat}B02"))
    assert msg.issues("TR302") == []
    # An open end overlaps anything later.
    msg = _alloc(standard, P(1, S, None), P(2, date(2030, 1, 1), date(2030, 2, 1)), P(3, date(2020, 1, 1), date(2020, 12, 31)))
    assert msg.paths("TR302") == [f"{TP}[1]", f"{TP}[2]"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr302_category_level_and_generic(standard):
    cat = samples.DEFAULT_PRODUCT[standard][0]
    # Without a Code the rule works on the category: an aspecific toewijzing stacks with a specific one.
    msg = _alloc(standard, P(1, S, None, cat, f"{cat}A01"), P(2, S, None, cat, None, volume=None))
    assert msg.paths("TR302") == [f"{TP}[1]", f"{TP}[2]"]
    # Without a Categorie (generic, budget only) it may overlap no product at all.
    other = "46" if standard == "ijw" else "03"
    generic = P(2, S, date(2026, 12, 31), None, None, budget=1000)
    msg = _alloc(standard, P(1, S, None, other, f"{other}X01"), generic)
    assert msg.paths("TR302") == [f"{TP}[1]", f"{TP}[2]"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr302_removed_toewijzingen_do_not_count(standard):
    removed = P(2, date(2026, 2, 1), date(2026, 2, 1), reden_wijziging="13")
    assert _alloc(standard, P(1, S, None), removed).issues("TR302") == []
    kept = P(2, date(2026, 2, 1), date(2026, 2, 1), reden_wijziging="05")
    assert _alloc(standard, P(1, S, None), kept).paths("TR302") == [f"{TP}[1]", f"{TP}[2]"]


def test_tr302_iwmo_categories_11_to_14_may_overlap():
    msg = _alloc("iwmo", P(1, S, None, "12", "12A01"), P(2, S, None, "12", "12A01"))
    assert msg.issues("TR302") == []
    generic = P(3, S, date(2026, 12, 31), None, None, budget=1000)
    assert _alloc("iwmo", P(1, S, None, "13", None, volume=None), generic).issues("TR302") == []
    # ... but a generic toewijzing still stacks with category 02.
    msg = _alloc("iwmo", P(1, S, None, "13", None, volume=None), generic, P(2, S, None, "02", "02A01"))
    assert msg.paths("TR302") == [f"{TP}[2]", f"{TP}[3]"]


def test_tr302_ijw_has_no_category_exception():
    msg = _alloc("ijw", P(1, S, None, "45", "45A01"), P(2, S + timedelta(days=40), None, "45", "45A01"))
    assert msg.paths("TR302") == [f"{TP}[1]", f"{TP}[2]"]
