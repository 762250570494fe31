"""The 325 on its way to the aanbieder: TR337, TR376 (it answers a received 323), TR366, TR367,
TR304 (its prestaties are the declared ones), and the rejected prestaties it reports."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import select

from gateway import samples
from gateway.samples import BSNS, Prestatie
from gateway.store import tables as t
from tests.store.test_rules_allocation_regie import fails, ok


def _declared(store):
    ok(store, samples.allocation())
    raw = samples.declaration(clients={BSNS[0]: [Prestatie(referentienummer="P-1"), Prestatie(referentienummer="P-2", volume=2, begindatum=samples.previous_month(samples.previous_month()[0])[0], einddatum=samples.previous_month(samples.previous_month()[0])[1])]})
    ok(store, raw)
    return raw


def _edit(raw: bytes, name: str, value: str) -> bytes:
    root = etree.fromstring(raw)
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == name:
            el.text = value
            break
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _status(store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(t.prestaties.c.referentienummer, t.prestaties.c.status)).all())


def test_a_325_answering_a_received_323_marks_the_rejected_prestaties(store):
    decl = _declared(store)
    ok(store, samples.declaration_answer(decl, rejected={"P-2": ["9321"]}))
    assert _status(store) == {"P-1": "accepted", "P-2": "rejected"}
    # the rejected debit can no longer be credited (TR323); the approved one can
    fails(store, samples.declaration(clients={BSNS[0]: [Prestatie(referentienummer="C-2", vorig_referentienummer="P-2", debet_credit="C", volume=2)]}), "TR323")


def test_tr337_tr376_the_325_answers_a_received_323(store):
    decl = _declared(store)
    r = fails(store, _edit(samples.declaration_answer(decl), "DeclaratieNummer", "UNKNOWN"), "TR376")
    assert r.issues[0].class_path.endswith("/DeclaratieAntwoord")
    fails(store, samples.declaration_answer(samples.declaration(declaratienummer="OTHER")), "TR337")
    ok(store, samples.declaration_answer(decl))


def test_tr366_tr367_tr304_echoed_prestaties_are_the_declared_ones(store):
    decl = _declared(store)
    def answer():
        return samples.declaration_answer(decl, rejected={"P-2": ["9321"]})

    fails(store, _edit(answer(), "ReferentieNummer", "P-9"), "TR366")
    fails(store, _edit(answer(), "GeleverdVolume", "3"), "TR367")
    fails(store, _edit(answer(), "Bsn", BSNS[4]), "TR304")
    ok(store, answer())


def test_tr371_xsd_version_of_the_declaration(store):
    decl = _declared(store)
    root = etree.fromstring(samples.declaration_answer(decl))
    el = next(e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "XsdVersieDeclaratie")
    el[-1].text = "9.9.9"
    fails(store, etree.tostring(root), "TR371")
    ok(store, samples.declaration_answer(decl))
