"""Every sample builder yields messages valid against the official XSDs (and ours, where present)."""

from __future__ import annotations

import pytest
from lxml import etree
from schema_assert import assert_valid

from gateway import samples
from gateway.catalog import ALL, by_code

CODES = [t.code for t in ALL]


def _schema_for(code, official_schemas, our_schemas):
    if code in official_schemas:
        return official_schemas[code]
    if code in our_schemas:
        return our_schemas[code]
    pytest.skip(f"no official XSD for {code} and schemas/iwmo-3.2 has none yet")


@pytest.mark.parametrize("code", CODES)
def test_default_message_is_valid(code, official_schemas, our_schemas):
    assert_valid(_schema_for(code, official_schemas, our_schemas), samples.build(code), code)


@pytest.mark.parametrize("code", CODES)
def test_default_message_identifies_as_its_type(code):
    root = etree.fromstring(samples.build(code))
    mt = by_code(code)
    assert etree.QName(root).namespace == mt.namespace
    assert root.findtext(f"{{{mt.namespace}}}Header/{{{mt.namespace}}}BerichtCode") == mt.berichtcode


@pytest.mark.parametrize("code", CODES)
def test_valid_against_our_schemas(code, our_schemas):
    if code not in our_schemas:
        pytest.skip(f"schemas/ has no compilable XSD for {code} yet")
    assert_valid(our_schemas[code], samples.build(code), f"{code} (our schema)")


def _variants(std: str) -> dict[str, bytes]:
    """Messages that exercise every optional branch of the builders, coherent in themselves."""
    other = "43" if std == "ijw" else "03"  # a second category, so products do not stack (TR302)
    old_start = samples.allocation_start().replace(year=samples.allocation_start().year - 2)
    out = {
        "301 generic+aspecific+relatie": samples.allocation(
            std,
            relatie=True,
            products=(
                # a generic toewijzing may overlap nothing: give it a period of its own, long ago
                samples.Allocated(
                    toewijzingnummer=1, categorie=None, budget=500000, ingangsdatum=old_start,
                    einddatum=old_start.replace(month=12, day=31), toewijzingsdatum=old_start,
                ),
                samples.Allocated(toewijzingnummer=2, categorie=other, code=None, referentie_aanbieder="VOT1"),
                samples.Allocated(
                    toewijzingnummer=3, volume=2, eenheid="14", frequentie="2", reden_wijziging="12",
                    commentaar="verlengd",
                ),
                samples.Allocated(toewijzingnummer=4, code=samples.DEFAULT_PRODUCT[std][0] + "B02", einddatum=None),
            ),
        ),
        "305 two starts + delete": samples.start(
            std,
            products=(samples.Started(), samples.Started(toewijzingnummer=1002, status="3")),
        ),
        "305 taakgericht": samples.start(
            std, products=(samples.Started(toewijzingnummer=None, toewijzing_ingangsdatum=None),)
        ),
        "307 temporary": samples.stop(std, products=(samples.Stopped(reden_beeindiging="20"),)),
        "315 all optionals": samples.request(
            std,
            products=(
                samples.Requested(
                    beschikkingnummer=77, beschikking_ingangsdatum=samples.allocation_start(), raamcontract="1",
                    commentaar="met spoed",
                ),
                samples.Requested(
                    categorie=other, code=None, budget=100000, verwijzer_type="01", verwijzer_naam="Gemeente"
                ),
            ),
        ),
        "317 all groups": samples.change_request(
            std,
            unchanged=(samples.Unchanged(1002),),
            to_change=(samples.ToChange(),),
            new=(samples.NewProduct(), samples.NewProduct(categorie=other, code=None, budget=25000)),
        ),
        "319 rejected": samples.answer(std, verzoek_antwoord="1", reden_afwijzing="3"),
        "323 credit and 83": samples.declaration(
            std,
            clients={
                samples.BSNS[1]: [
                    samples.Prestatie(referentienummer="R2", debet_credit="C", vorig_referentienummer="R0"),
                    samples.Prestatie(referentienummer="R3", toewijzingnummer=1003, eenheid="83", volume=12345),
                ],
                samples.BSNS[2]: [samples.Prestatie(referentienummer="R4", toewijzingnummer=2001, volume=0)],
            },
        ),
    }
    if std == "ijw":
        out["315 gezagsdrager"] = samples.request(std, gezagsdrager_bekend="1")
        out["319 woonplaatsbeginsel"] = samples.answer(
            std, verzoek_antwoord="1", reden_afwijzing="8", woonplaatsbeginsel="0363"
        )
    return out


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_variants_are_valid(std, official_schemas):
    prefix = "JW" if std == "ijw" else "WMO"
    for name, message in _variants(std).items():
        assert_valid(official_schemas[prefix + name[:3]], message, f"{std} {name}")


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_retour_variants_are_valid(std, official_schemas, our_schemas):
    prefix = "JW" if std == "ijw" else "WMO"
    for name, heen in _variants(std).items():
        if name.startswith("323"):
            decl_bytes = heen
            answers = {
                "approved": samples.declaration_answer(decl_bytes),
                "partly rejected": samples.declaration_answer(decl_bytes, rejected={"R3": ["9339", "9340"]}),
                "level 2": samples.declaration_answer(decl_bytes, header_codes=["0001"]),
            }
            code = prefix + "325"
        else:
            answers = {
                "approved": samples.retour(heen),
                "level 2": samples.retour(heen, codes=["0001"]),
                "echo": samples.retour(heen, echo=True),
            }
            code = prefix + str(int(name[:3]) + 1)
        schema = official_schemas.get(code) or our_schemas.get(code)
        if schema is None:
            pytest.skip(f"no XSD for {code} yet (iWmo retours need schemas/iwmo-3.2)")
        for kind, message in answers.items():
            assert_valid(schema, message, f"{code} {kind} for {name}")


def test_large_declaration_is_valid(official_schemas):
    for std, code in (("ijw", "JW323"), ("iwmo", "WMO323")):
        message = samples.large_declaration(std, 1000, n_clients=7)
        assert_valid(official_schemas[code], message, code)
