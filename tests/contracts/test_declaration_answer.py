"""End to end: a 323 mixing good prestaties with a no-show, an uncontracted product and a wrong
tariff is judged by every rule level (with stored state) and answered by a 325 that rejects exactly
those three lines with the contract codes and awards the rest."""

from __future__ import annotations

import pytest
from lxml import etree

import gateway.retour as retour
import gateway.store as store_mod
from gateway import clock, samples
from gateway.catalog import by_code
from tests.contracts.conftest import GOUDA, GROENE_HART
from validators.paths import text

P = samples.Prestatie
NS = {"ijw": "http://www.istandaarden.nl/ijw/3_2/jw325/schema", "iwmo": "http://www.istandaarden.nl/iwmo/3_2/wmo325/schema"}


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr001_cr002_cr003_325_rejects_exactly_the_contract_violations(tmp_path, registry, std):
    from gateway.store.ingest import ingest
    from validators import engine

    store = store_mod.open_store(f"sqlite:///{tmp_path / 'gw.db'}", client_key_secret="e2e")
    code = "JW" if std == "ijw" else "WMO"
    cat = "45" if std == "ijw" else "02"
    # An aspecific toewijzing (category only): any product code of the category may be declared
    # (TR339/TR340 compare the category only), so the contract decides which codes are payable.
    bsns = samples.BSNS[:3]
    allocations = [
        samples.allocation(
            std,
            gemeente=GOUDA,
            aanbieder=GROENE_HART,
            bsn=bsn,
            products=(samples.Allocated(toewijzingnummer=3001 + n, categorie=cat, code=None),),
        )
        for n, bsn in enumerate(bsns)
    ]

    def judge(number, xml):
        root = etree.fromstring(xml)
        mtype = by_code(f"{code}{number}")
        level2 = engine.run(engine.RuleContext(root, mtype, clock.today()))
        assert [i for i in level2 if i.severity == "error"] == [], level2
        return root, mtype, ingest(store, xml, root, mtype, today=clock.today(), prior_issues=level2, contracts=registry)

    for alloc in allocations:
        assert judge("301", alloc)[2].verdict == "accepted"

    un_cat, un_code, un_unit, un_volume, un_tarief = (
        ("45", "45HC1", "84", 1, 45000) if std == "ijw" else ("02", "02BT1", "04", 2, 7100)
    )
    # One prestatie per product, period and toewijzing (TR416): spread over three clients.
    clients = {
        bsns[0]: [
            P(toewijzingnummer=3001, categorie=cat, code=f"{cat}A01"),  # good: 8 h x 75.00
            P(toewijzingnummer=3001, categorie=cat, code=f"{cat}NS1", volume=1),  # no-show
            P(toewijzingnummer=3001, categorie=un_cat, code=un_code, eenheid=un_unit, volume=un_volume, tarief=un_tarief),
        ],
        bsns[1]: [P(toewijzingnummer=3002, categorie=cat, code=f"{cat}A01", eenheid="01", volume=45, tarief=125, bedrag=5625)],
        bsns[2]: [P(toewijzingnummer=3003, categorie=cat, code=f"{cat}A01", volume=2, tarief=8000)],  # wrong tariff
    }
    decl = samples.declaration(std, gemeente=GOUDA, aanbieder=GROENE_HART, clients=clients)
    root, mtype, result = judge("323", decl)
    assert result.verdict == "accepted", result.issues  # partly: the rejected prestaties are listed
    assert sorted(result.rejected_paths) == sorted(
        [
            "/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie[2]",
            "/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie[3]",
            "/Bericht/Declaratie/Clienten/Client[3]/Prestaties/Prestatie",
        ]
    )

    answer = etree.fromstring(
        retour.build_declaratie_antwoord(root, mtype, result.issues, identificatie="A325TEST01", today=clock.today())
    )
    ns = {"a": NS[std]}
    rejected = {
        p.findtext("a:ProductCode", namespaces=ns): [c.text for c in p.iterfind("a:RetourCodes/a:RetourCode", ns)]
        for p in answer.iterfind(".//a:Prestatie", ns)
    }
    assert rejected == {f"{cat}NS1": ["S329"], un_code: ["S329"], f"{cat}A01": ["0611"]}
    awarded = 8 * 7500 + 5625
    total = sum(samples.resolve(p, std).amount() for ps in clients.values() for p in ps)
    da = answer.find("a:DeclaratieAntwoord", ns)
    # Amount elements sit in the basisschema namespace: read them namespace-agnostically.
    assert int(text(da, "TotaalIngediendBedrag", "TotaalBedrag")) == total
    assert int(text(da, "TotaalToegekendBedrag", "TotaalBedrag")) == awarded
    assert [c.text for c in answer.iterfind("a:Header/a:RetourCodes/a:RetourCode", ns)] == ["0200"]
    store.close()
