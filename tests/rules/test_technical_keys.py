"""TR101: no duplicate lines (same-named siblings of a class do not share its logical key), every message.

One finding per group of duplicates with every member as a location, as the official Fout lists them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from rule_helpers import STANDARDS, Msg

from gateway import samples
from validators.rulesets.technical_keys import KEYS

C = "/Bericht/Client"


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_301_toewijzingnummer_relatie_and_contact(standard):
    msg = Msg(samples.allocation(standard, relatie=True))
    assert msg.issues("TR101") == []
    msg.copy_after("Client/ToegewezenProducten/ToegewezenProduct")
    msg.copy_after("Client/Relaties/Relatie")
    msg.copy_after("Client/Contactgegevens/Contact")
    assert msg.locations("TR101") == [
        [f"{C}/Relaties/Relatie[1]", f"{C}/Relaties/Relatie[2]"],
        [f"{C}/Contactgegevens/Contact[1]", f"{C}/Contactgegevens/Contact[2]"],
        [f"{C}/ToegewezenProducten/ToegewezenProduct[1]", f"{C}/ToegewezenProducten/ToegewezenProduct[2]"],
    ]
    # Different keys are no duplicates.
    msg.set("Client/ToegewezenProducten/ToegewezenProduct[2]/ToewijzingNummer", 99)
    msg.set("Client/Relaties/Relatie[2]/Nummer", "2")
    msg.set("Client/Contactgegevens/Contact[2]/Soort", "02")
    assert msg.issues("TR101", schema_valid=False) == []  # TR302 aside, the keys differ


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_305_start_key_without_status(standard):
    start = samples.Started()
    msg = Msg(samples.start(standard, products=(start, samples.Started(status="3"))))
    # StatusAanlevering is not part of the key: delete + new with one key collide.
    assert msg.locations("TR101") == [[f"{C}/StartProducten/StartProduct[1]", f"{C}/StartProducten/StartProduct[2]"]]
    later = samples.Started(begindatum=start.begindatum + timedelta(days=1))
    assert Msg(samples.start(standard, products=(start, later))).issues("TR101") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_307_stop_key_includes_reason_and_end(standard):
    stop = samples.Stopped()
    assert Msg(samples.stop(standard, products=(stop,))).issues("TR101") == []
    msg = Msg(samples.stop(standard, products=(stop, samples.Stopped())))
    assert msg.locations("TR101") == [[f"{C}/StopProducten/StopProduct[1]", f"{C}/StopProducten/StopProduct[2]"]]
    other_end = samples.Stopped(einddatum=stop.einddatum - timedelta(days=1))
    assert Msg(samples.stop(standard, products=(stop, other_end))).issues("TR101") == []
    other_reason = samples.Stopped(reden_beeindiging="20")
    assert Msg(samples.stop(standard, products=(stop, other_reason))).issues("TR101") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_315_referentie_aanbieder(standard):
    msg = Msg(samples.request(standard))
    assert msg.issues("TR101") == []
    msg.copy_after("Client/AangevraagdeProducten/AangevraagdProduct")
    assert msg.locations("TR101") == [
        [f"{C}/AangevraagdeProducten/AangevraagdProduct[1]", f"{C}/AangevraagdeProducten/AangevraagdProduct[2]"]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_317_products(standard):
    msg = Msg(samples.change_request(
        standard,
        unchanged=(samples.Unchanged(toewijzingnummer=5),),
        to_change=(samples.ToChange(),),
        new=(samples.NewProduct(),),
    ))
    assert msg.issues("TR101") == []
    v = "Client/Verzoek"
    msg.copy_after(f"{v}/OngewijzigdeProducten/OngewijzigdProduct")
    msg.copy_after(f"{v}/TeWijzigenProducten/TeWijzigenProduct")
    msg.copy_after(f"{v}/NieuweProducten/NieuwProduct")
    assert [locs[1] for locs in msg.locations("TR101")] == [
        f"/Bericht/{v}/OngewijzigdeProducten/OngewijzigdProduct[2]",
        f"/Bericht/{v}/TeWijzigenProducten/TeWijzigenProduct[2]",
        f"/Bericht/{v}/NieuweProducten/NieuwProduct[2]",
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_323_client_and_prestatie(standard):
    msg = Msg(samples.declaration(standard, clients={
        samples.BSNS[0]: [samples.Prestatie(referentienummer="A"), samples.Prestatie(referentienummer="B", toewijzingnummer=2)],
        samples.BSNS[1]: [samples.Prestatie(referentienummer="A", toewijzingnummer=3)],
    }))
    # The same ReferentieNummer under another client is no duplicate (TR314 is level 3).
    assert msg.issues("TR101") == []
    msg.set("Declaratie/Clienten/Client[1]/Prestaties/Prestatie[2]/ProductReferentie/ReferentieNummer", "A")
    p1 = "/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie"
    assert msg.locations("TR101") == [[f"{p1}[1]", f"{p1}[2]"]]
    # Two clients with one Bsn are duplicates; their prestaties are still compared per Client only.
    msg.set("Declaratie/Clienten/Client[2]/Bsn", samples.BSNS[0])
    assert msg.locations("TR101") == [
        [f"{p1}[1]", f"{p1}[2]"],
        ["/Bericht/Declaratie/Clienten/Client[1]", "/Bericht/Declaratie/Clienten/Client[2]"],
    ]
    # Key values compare as written, as the official check does: " A" is another value than "A".
    msg.set("Declaratie/Clienten/Client[1]/Prestaties/Prestatie[2]/ProductReferentie/ReferentieNummer", " A")
    assert [locs[0] for locs in msg.locations("TR101")] == ["/Bericht/Declaratie/Clienten/Client[1]"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_325_prestatie(standard):
    d = samples.declaration(standard, clients={samples.BSNS[0]: [
        samples.Prestatie(referentienummer="A"), samples.Prestatie(referentienummer="B", toewijzingnummer=2),
    ]})
    msg = Msg(samples.declaration_answer(d, rejected={"A": ["9307"], "B": ["9308"]}))
    assert msg.issues("TR101") == []
    msg.set("DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie[2]/ProductReferentie/ReferentieNummer", "A")
    p = "/Bericht/DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie"
    assert msg.locations("TR101") == [[f"{p}[1]", f"{p}[2]"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr101_and_tr416_large_declaration_scales(standard):
    """10,000 prestaties with one duplicate at the end: exactly that one is found (one pass)."""
    msg = Msg(samples.large_declaration(standard, 10_000))
    assert msg.issues("TR101", schema_valid=False) == []
    assert msg.issues("TR416", schema_valid=False) == []
    prestaties = msg.root.findall(".//{*}Prestatie")
    # the last prestatie repeats the first of its own Client (TR416 compares within a Client)
    last = prestaties[-1]
    first = last.getparent().find("{*}Prestatie")
    assert first is not last
    for name in ("ToewijzingNummer", "ProductCategorie", "ProductCode"):
        last.find(f"{{*}}{name}").text = first.find(f"{{*}}{name}").text
    for name in ("Begindatum", "Einddatum"):
        last.find(f"{{*}}ProductPeriode/{{*}}{name}").text = first.find(f"{{*}}ProductPeriode/{{*}}{name}").text
    assert len(msg.issues("TR416", schema_valid=False)) == 1


def test_tr101_keys_match_the_official_sleutelelementen(official_dir):
    """Our logical keys are exactly the elements the iJw CD/CS/RS table flags as Sleutelelement."""
    source = (official_dir / "ijw-3.2" / "docs" / "regels" / "condities-constraints"
              / "Condities_constraints_per_data-element.md").read_text(encoding="utf-8")
    official: dict[tuple[str, str], set[str]] = {}
    for block in source.split("\n---\n"):
        if "- Sleutelelement: ja" not in block:
            continue
        number = re.search(r"- Bericht: JW(\d{3})", block)[1]
        klasse = re.search(r"- Berichtklasse: (\w+)", block)[1]
        element = re.search(r"- Element: ([\w.]+)", block)[1].split("_")[0].split(".")[0]
        cdt = re.search(r"- CDT-element: (\w+)", block)
        if element == "Product" and cdt is None:
            continue  # the class flag; its Categorie and Code rows carry the key
        key = element + ("/" + cdt[1].split("_")[0] if cdt else "")
        official.setdefault((number, klasse), set()).add(key)

    ours: dict[tuple[str, str], set[str]] = {}

    def flatten(number, specs):
        for spec in specs:
            ours[(number, spec.name)] = {"/".join(p) for p in spec.key}
            flatten(number, spec.subclasses)

    for number, specs in KEYS.items():
        flatten(number, specs)
    for klasse in ("Antwoord", "Woonplaatsbeginsel"):  # TR101 does not apply to the 319
        official.pop(("319", klasse))
    assert ours == official
