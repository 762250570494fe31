"""Declaration outcomes as stored facts: per prestatie its status, retourcodes, amount granted and
the message that decided it; the municipality's 325 linked to its 323; one call per question."""

from __future__ import annotations

from lxml import etree

from gateway import samples
from gateway.samples.xmlbuild import previous_month

from .conftest import AANBIEDER, GEMEENTE
from .test_api import auth

BSN = samples.BSNS[503]


def _declare(client, keys) -> tuple[str, str, bytes]:  # noqa: ANN001
    assert client.post("/v1/messages", content=samples.allocation("ijw", bsn=BSN),
                       headers=auth(keys.gemeente)).json()["verdict"] == "accepted"
    xml = samples.declaration("ijw", clients={BSN: [
        samples.Prestatie(referentienummer="OK1"),
        samples.Prestatie(referentienummer="BAD", toewijzingnummer=9999),  # TR338: no such toewijzing
    ]})
    body = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).json()
    assert body["verdict"] == "accepted", [(i["rule"], i["path"], i["text"][:120]) for i in body["issues"]]
    nummer = etree.fromstring(xml).findtext(".//{*}DeclaratieNummer")
    return body["message_id"], nummer, xml


def _get(client, key, url, **params):  # noqa: ANN001, ANN003, ANN202
    r = client.get(url, params=params, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_gateways_verdict_is_stored_per_prestatie(client, keys):
    mid, nummer, _ = _declare(client, keys)
    d = _get(client, keys.aanbieder, f"/v1/declarations/jeugd/{nummer}")
    by_ref = {p["referentienummer"]: p for p in d["prestaties"]}
    assert by_ref["BAD"]["status"] == "rejected" and by_ref["BAD"]["retourcodes"] == ["9338"]
    assert by_ref["BAD"]["granted"] == 0 and by_ref["BAD"]["decided_by"] == mid
    assert by_ref["OK1"]["status"] == "accepted" and by_ref["OK1"]["granted"] == by_ref["OK1"]["bedrag"] > 0
    assert d["answer_message_id"] is None
    assert d["totals"]["prestaties_rejected"] == 1
    assert d["totals"]["granted"] == by_ref["OK1"]["bedrag"]
    # The gemeente sees the same facts; another party sees nothing.
    assert _get(client, keys.gemeente, f"/v1/declarations/ijw/{nummer}")["totals"] == d["totals"]


def test_the_municipalitys_325_is_linked_and_decides_what_it_rejects(client, keys):
    mid, nummer, xml = _declare(client, keys)
    answer = samples.declaration_answer(xml, rejected={"OK1": ["9321"]})
    r = client.post("/v1/messages", content=answer, headers=auth(keys.gemeente)).json()
    assert r["verdict"] == "accepted", r
    d = _get(client, keys.aanbieder, f"/v1/declarations/jeugd/{nummer}")
    assert d["answer_message_id"] == r["message_id"] and d["answered_at"]
    ok1 = _get(client, keys.aanbieder, "/v1/prestaties/jeugd/OK1")
    assert (ok1["status"], ok1["retourcodes"], ok1["granted"], ok1["decided_by"]) == (
        "rejected", ["9321"], 0, r["message_id"])
    assert ok1["declaratienummer"] == nummer
    bad = _get(client, keys.aanbieder, "/v1/prestaties/jeugd/BAD")
    assert bad["retourcodes"] == ["9338"] and bad["decided_by"] == mid  # the gateway's verdict stays


def test_a_clients_month_and_the_totals_in_one_call_each(client, keys):
    _, nummer, _ = _declare(client, keys)
    month = previous_month()[0].strftime("%Y-%m")
    r = client.post("/v1/declarations/client", json={"bsn": BSN, "month": month},
                    headers={"X-API-Key": keys.aanbieder})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {p["referentienummer"] for p in body["prestaties"]} == {"OK1", "BAD"}
    assert BSN not in r.text  # the answer names the client by nothing but the question
    totals = _get(client, keys.gemeente, "/v1/declarations/totals", month=month)["items"]
    assert [(t["gemeente"], t["aanbieder"], t["prestaties"], t["prestaties_rejected"]) for t in totals] == [
        (GEMEENTE, AANBIEDER, 2, 1)]
    assert totals[0]["granted"] == totals[0]["submitted"] - totals[0]["rejected"]
    # another month holds nothing
    assert _get(client, keys.gemeente, "/v1/declarations/totals", month="2001-01")["items"] == []


def test_bad_questions_get_clear_answers(client, keys):
    h = {"X-API-Key": keys.aanbieder}
    assert client.get("/v1/declarations/jeugd/NOPE", headers=h).status_code == 404
    assert client.get("/v1/declarations/zorg/1", headers=h).json()["error"]["code"] == "bad_law"
    assert client.get("/v1/declarations/totals", params={"month": "2026-13"}, headers=h).status_code == 400
    r = client.post("/v1/declarations/client", json={"bsn": "12", "month": "2026-11"}, headers=h)
    assert r.status_code == 400 and "Traceback" not in r.text
    assert client.get("/v1/declarations/totals", params={"month": "2026-11"}).status_code == 401


def test_rows_from_before_the_outcome_columns_count_the_same_everywhere(app, client, keys):
    """A prestatie stored before revision 0007 has no granted amount: the declaration's totals
    and the month's totals both count an accepted one in full."""
    from sqlalchemy import update

    from gateway.store import tables as t

    _, nummer, _ = _declare(client, keys)
    with app.state.components.store.engine.begin() as conn:
        conn.execute(update(t.prestaties).values(granted=None, retourcodes=None, decided_by=None))
    d = _get(client, keys.aanbieder, f"/v1/declarations/jeugd/{nummer}")
    month = previous_month()[0].strftime("%Y-%m")
    [row] = _get(client, keys.aanbieder, "/v1/declarations/totals", month=month)["items"]
    ok1 = next(p for p in d["prestaties"] if p["referentienummer"] == "OK1")
    assert d["totals"]["granted"] == row["granted"] == ok1["bedrag"]
