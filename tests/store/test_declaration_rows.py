"""Every column of the prestatie rows a 323 stores (gateway.store.apply._declaration writes them
as plain value tuples, one executemany): a value in the wrong column would pass the rules' tests
and still corrupt the state later declarations are judged on."""

from __future__ import annotations

from sqlalchemy import select

from gateway import samples
from gateway.samples import BSNS, Prestatie
from gateway.samples.xmlbuild import previous_month
from gateway.store import tables as t
from gateway.store.clientkey import client_key
from tests.store.test_rules_allocation_regie import ok
from tests.store.test_rules_declaration import allocated  # noqa: F401  (fixture)
from tests.store.conftest import send

A = BSNS[0]


def _rows(store) -> dict[str, dict]:  # noqa: ANN001
    p = t.prestaties
    with store.engine.connect() as conn:
        rows = conn.execute(select(p)).mappings().all()
    return {r["referentienummer"]: {k: v for k, v in r.items() if k != "id"} for r in rows}


def test_every_column_of_stored_prestaties(allocated):  # noqa: F811
    store = allocated
    first, last = previous_month()
    law, gemeente, aanbieder = "jeugd", samples.GEMEENTE, samples.AANBIEDER
    key = client_key(store.secret, A)
    debit = Prestatie(referentienummer="P-1", volume=8)
    unknown = Prestatie(referentienummer="P-X", toewijzingnummer=999, volume=3)  # no such toewijzing
    r1 = send(store, samples.declaration(clients={A: [debit, unknown]}, declaratienummer="D-1"))
    assert r1.verdict == "accepted" and "TR338" in r1.codes, r1.issues  # partly rejected
    r2 = ok(store, samples.declaration(clients={A: [Prestatie(referentienummer="C-1", vorig_referentienummer="P-1",
                                                                debet_credit="C", volume=8)]}, declaratienummer="D-2"))
    with store.engine.connect() as conn:
        decl = {r.declaratienummer: r.id for r in conn.execute(select(t.declarations))}
    common = dict(law=law, gemeente=gemeente, aanbieder=aanbieder, client_key=key, categorie="45",
                  code="45A01", periode_begin=first, periode_eind=last, eenheid="04", tarief=7500)
    rows = _rows(store)
    assert set(rows) == {"P-1", "P-X", "C-1"}
    expected_p1 = dict(common, message_id=r1.message_id, declaration_id=decl["D-1"], referentienummer="P-1",
                       vorig_referentienummer=None, debet_credit="D", toewijzingnummer=str(debit.toewijzingnummer),
                       volume=8, bedrag=8 * 7500, status="accepted", credited=True, retourcodes=None,
                       granted=8 * 7500, decided_by=r1.message_id)
    expected_px = dict(common, message_id=r1.message_id, declaration_id=decl["D-1"], referentienummer="P-X",
                       vorig_referentienummer=None, debet_credit="D", toewijzingnummer="999", volume=3,
                       bedrag=3 * 7500, status="rejected", credited=False, retourcodes=[],
                       granted=0, decided_by=r1.message_id)
    expected_c1 = dict(common, message_id=r2.message_id, declaration_id=decl["D-2"], referentienummer="C-1",
                       vorig_referentienummer="P-1", debet_credit="C", toewijzingnummer=str(debit.toewijzingnummer),
                       volume=8, bedrag=8 * 7500, status="accepted", credited=False, retourcodes=None,
                       granted=-8 * 7500, decided_by=r2.message_id)
    assert rows["P-1"] == expected_p1
    assert rows["P-X"] == expected_px
    assert rows["C-1"] == expected_c1
