"""The HTTP API in-process: identity, roles, transport rejections, idempotency, streams, batches,
overload. (End-to-end over real HTTP with Kafka and PostgreSQL: test_e2e.py.)"""

from __future__ import annotations

import io
import zipfile

from gateway import samples

from .conftest import AANBIEDER, GEMEENTE


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}


def stream(client, party: str, key: str, after: int = 0) -> list[dict]:
    r = client.get(f"/v1/streams/{party}", params={"after": after}, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def audit_actions(app) -> list[str]:  # noqa: ANN001
    return [a.action for a in app.state.components.store.list_audit(limit=100)]


def test_accepted_message_is_routed_to_the_receiver(client, keys):
    r = client.post("/v1/messages", content=samples.allocation("ijw"), headers=auth(keys.gemeente))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["verdict"] == "accepted" and body["code"] == "JW301" and body["routing_state"] == "published"
    assert body["sender"] == GEMEENTE and body["receiver"] == AANBIEDER
    items = stream(client, AANBIEDER, keys.aanbieder)
    assert [(i["type"], i["message_id"]) for i in items] == [("JW301", body["message_id"])]
    assert items[0]["xml"].startswith("<?xml")
    # The message's status is visible to sender and receiver.
    for key in (keys.gemeente, keys.aanbieder):
        view = client.get(f"/v1/messages/{body['message_id']}", headers={"X-API-Key": key})
        assert view.status_code == 200 and view.json()["verdict"] == "accepted"


def test_unknown_missing_and_revoked_keys_are_refused(app, client, keys):
    xml = samples.start("ijw")
    r = client.post("/v1/messages", content=xml)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    r = client.post("/v1/messages", content=xml, headers=auth("gwk_0000_notakey"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unknown_key"
    store = app.state.components.store
    key_id = store.list_api_keys(AANBIEDER)[0].key_id
    store.revoke_api_key(key_id)
    r = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder))
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked_key"
    assert key_id in r.json()["error"]["message"]
    assert stream(client, GEMEENTE, keys.gemeente) == []  # nothing routed


def test_a_key_revoked_after_use_is_refused_at_its_next_message(app, client, keys):
    """A key that authenticated before is checked again with every message (in the pipeline's
    thread, deps.KnownCredentials): its revocation takes effect at once and nothing is stored."""
    store = app.state.components.store
    first = client.post("/v1/messages", content=samples.allocation("ijw"), headers=auth(keys.gemeente))
    assert first.status_code == 202, first.text
    key_id = store.list_api_keys(GEMEENTE)[0].key_id
    store.revoke_api_key(key_id)
    bsn = samples.BSNS[7]
    r = client.post("/v1/messages", content=samples.allocation("ijw", bsn=bsn), headers=auth(keys.gemeente))
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked_key", r.text
    assert [i["message_id"] for i in stream(client, AANBIEDER, keys.aanbieder)] == [first.json()["message_id"]]
    # Refused again before its body is read, like any credential not known to be live.
    r = client.post("/v1/messages", content=b"", headers=auth(keys.gemeente))
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked_key"


def test_revoked_party_is_refused(app, client, keys):
    app.state.components.store.revoke_party(AANBIEDER)
    r = client.post("/v1/messages", content=samples.start("ijw"), headers=auth(keys.aanbieder))
    assert r.status_code == 401
    assert r.json()["error"]["code"] in ("revoked_key", "revoked_party")


def test_spoofed_afzender_is_refused_logged_and_not_routed(app, client, keys):
    spoof = samples.start("ijw", aanbieder="87654321")
    r = client.post("/v1/messages", content=spoof, headers=auth(keys.aanbieder))
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "spoofed_sender" and "87654321" in err["message"]
    assert "Traceback" not in r.text
    assert "message_refused" in audit_actions(app)
    assert stream(client, GEMEENTE, keys.gemeente) == []
    assert app.state.components.store.count_messages() == 0  # refused before storing


def test_wrong_role_is_refused(app, client, keys):
    # A provider sending an allocation in the municipality's name: wrong role before anything else.
    r = client.post("/v1/messages", content=samples.allocation("iwmo"), headers=auth(keys.aanbieder))
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_role"
    assert "WMO301" in r.json()["error"]["message"]
    # A municipality sending a declaration.
    r = client.post("/v1/messages", content=samples.declaration("ijw"), headers=auth(keys.gemeente))
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_role"
    assert stream(client, GEMEENTE, keys.gemeente) == []
    assert stream(client, AANBIEDER, keys.aanbieder) == []


def test_xsd_invalid_message_gets_a_transport_rejection_naming_the_element(app, client, keys):
    xml = samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1)
    r = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["verdict"] == "transport_rejected" and body["message_id"]
    assert "Begindatum" in body["error"]["path"] and "Begindatum" in body["error"]["message"]
    assert "Traceback" not in r.text
    stored = app.state.components.store.get_message(body["message_id"])
    assert stored.verdict == "transport_rejected" and stored.raw == xml
    assert client.get(f"/v1/messages/{body['message_id']}/retour",
                      headers={"X-API-Key": keys.aanbieder}).status_code == 404
    assert stream(client, GEMEENTE, keys.gemeente) == []


def test_not_xml_is_refused_clearly(client, keys):
    r = client.post("/v1/messages", content=b"\x00\x01 not xml", headers=auth(keys.aanbieder))
    assert r.status_code == 422 and r.json()["error"]["message"]
    r = client.post("/v1/messages", content=b"", headers=auth(keys.aanbieder))
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_body"


def test_same_message_twice_gets_the_same_answer_and_is_routed_once(client, keys):
    xml = samples.request("ijw")
    first = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).json()
    second = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).json()
    assert second["duplicate"] is True and first["duplicate"] is False
    assert second["message_id"] == first["message_id"]
    assert second["verdict"] == first["verdict"] and second["retour"] == first["retour"]
    assert len(stream(client, GEMEENTE, keys.gemeente)) == 1


def test_messages_of_others_are_not_visible(app, client, keys):
    from .conftest import add_party

    other = add_party(app.state.components.store, "11112222", "aanbieder")
    mid = client.post("/v1/messages", content=samples.request("ijw"), headers=auth(keys.aanbieder)).json()["message_id"]
    r = client.get(f"/v1/messages/{mid}", headers={"X-API-Key": other})
    assert r.status_code == 404
    r = client.get(f"/v1/streams/{AANBIEDER}", headers={"X-API-Key": other})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_your_stream"


def test_stream_ack_moves_the_offset(client, keys):
    for n in range(3):
        xml = samples.request("ijw", bsn=samples.BSNS[10 + n],
                              products=(samples.Requested(referentie_aanbieder=f"REF{n}"),))
        assert client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).status_code == 202
    h = {"X-API-Key": keys.gemeente}
    page = client.get(f"/v1/streams/{GEMEENTE}", headers=h).json()
    assert len(page["items"]) == 3 and page["acked"] == 0
    second = page["items"][1]["position"]
    assert client.post(f"/v1/streams/{GEMEENTE}/ack", json={"position": second}, headers=h).json()["acked"] == second
    page = client.get(f"/v1/streams/{GEMEENTE}", headers=h).json()
    assert [i["position"] for i in page["items"]] == [page["items"][0]["position"]]
    assert page["items"][0]["position"] > second
    # Acks never move back.
    assert client.post(f"/v1/streams/{GEMEENTE}/ack", json={"position": 1}, headers=h).json()["acked"] == second


def test_batch_zip_processes_every_entry(client, keys):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.xml", samples.request("ijw", products=(samples.Requested(referentie_aanbieder="B1"),)))
        zf.writestr("b.xml", b"<broken")
        zf.writestr("c.xml", samples.start("ijw", aanbieder="87654321"))
    r = client.post("/v1/batches", content=buf.getvalue(),
                    headers={"X-API-Key": keys.aanbieder, "Content-Type": "application/zip"})
    assert r.status_code == 200, r.text
    entries = {e["name"]: e for e in r.json()["entries"]}
    assert entries["a.xml"]["status"] == 202 and entries["a.xml"]["verdict"] == "accepted"
    assert entries["b.xml"]["status"] == 422 and entries["b.xml"]["message_id"]
    assert entries["c.xml"]["status"] == 403 and entries["c.xml"]["error"]["code"] == "spoofed_sender"
    assert r.json()["stored"] == 2 and r.json()["refused"] == 1


def test_hostile_zip_is_refused(client, keys):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../etc/evil.xml", b"<x/>")
    r = client.post("/v1/batches", content=buf.getvalue(), headers={"X-API-Key": keys.aanbieder})
    assert r.status_code == 422 and r.json()["error"]["code"] == "zip_path"


def test_overload_answers_503_with_retry_after_and_stores_nothing(app, client, keys):
    app.state.in_flight.busy = app.state.in_flight.limit  # every slot taken
    r = client.post("/v1/messages", content=samples.request("ijw"), headers=auth(keys.aanbieder))
    assert r.status_code == 503 and r.headers["Retry-After"] == str(app.state.settings.retry_after_seconds)
    assert r.json()["error"]["code"] == "overloaded"
    assert app.state.components.store.count_messages() == 0
    app.state.in_flight.busy = 0
    assert client.post("/v1/messages", content=samples.request("ijw"), headers=auth(keys.aanbieder)).status_code == 202


def test_too_large_message_is_refused(app, client, keys):
    app.state.settings.max_message_bytes = 1000
    r = client.post("/v1/messages", content=samples.allocation("ijw"), headers=auth(keys.gemeente))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_openapi_documents_every_endpoint_with_examples(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/messages", "/v1/batches", "/v1/messages/{message_id}",
                 "/v1/messages/{message_id}/retour", "/v1/messages/{message_id}/content",
                 "/v1/streams/{party_id}",
                 "/v1/streams/{party_id}/ack", "/v1/streams/{party_id}/sse"):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for name in ("MessageReceived", "TransportRejected", "ErrorResponse", "BatchResult", "StreamPage", "Ack"):
        assert "example" in schemas[name], name
    assert client.get("/docs").status_code == 200


def test_contract_bundle_upload_needs_the_admin_token_and_reports_problems(app, client):
    from gateway.contracts import BUNDLES_DIR
    from gateway.pipeline import load_contracts

    app.state.components.contracts = load_contracts(None)  # this test changes the registry
    text = (BUNDLES_DIR / "midden-holland.yaml").read_text().replace('version: "2025.1"', 'version: "2025.9"')
    url = "/v1/admin/contracts"
    assert client.post(url, content=text).status_code == 404  # off without a token configured
    app.state.settings.admin_token = "s3cret-admin"
    r = client.post(url, content=text, headers={"X-Admin-Token": "wrong"})
    assert r.status_code == 401
    r = client.post(url, content=text, headers={"X-Admin-Token": "s3cret-admin", "X-Actor": "alice"})
    assert r.status_code == 200, r.text
    assert (r.json()["region"], r.json()["version"], r.json()["loaded_by"]) == ("midden-holland", "2025.9", "alice")
    # Every rule cites its plan section; the invented values are counted, one by one.
    assert r.json()["uncited_rules"] == [] and r.json()["example_values"] > 50 and r.json()["product_list"] is False
    assert "2025.9" in [b.bundle.version for b in app.state.components.contracts.versions("midden-holland")]
    broken = text.replace("municipalities:", "municipalitiez:", 1)
    r = client.post(url, content=broken, headers={"X-Admin-Token": "s3cret-admin"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bundle_refused"
    assert r.json()["error"]["problems"] and "Traceback" not in r.text


def test_review_verdict_is_not_routed_unless_configured(app, client, keys):
    """Midden-Holland's bundle sends a provider-initiated WMO315 to manual review (CR006)."""
    from .conftest import add_party

    gouda = add_party(app.state.components.store, "0513", "gemeente")
    xml = samples.request("iwmo", gemeente="0513", bsn=samples.BSNS[500])
    body = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).json()
    assert body["verdict"] == "review" and body["routing_state"] == "not_routed"
    assert any(i["rule"] == "CR006" and i["severity"] == "warning" for i in body["issues"])
    assert stream(client, "0513", gouda) == []
    assert [i["type"] for i in stream(client, AANBIEDER, keys.aanbieder)] == ["WMO316"]  # the retour
    app.state.settings.route_review = True
    xml = samples.request("iwmo", gemeente="0513", bsn=samples.BSNS[501])
    body = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).json()
    assert body["verdict"] == "review" and body["routing_state"] == "published"
    assert [i["message_id"] for i in stream(client, "0513", gouda)] == [body["message_id"]]


def test_declaration_with_one_bad_prestatie_is_partly_awarded_and_routed(client, keys):
    bsn = samples.BSNS[502]
    assert client.post("/v1/messages", content=samples.allocation("ijw", bsn=bsn),
                       headers=auth(keys.gemeente)).json()["verdict"] == "accepted"
    xml = samples.declaration("ijw", clients={bsn: [samples.Prestatie(),
                                                    samples.Prestatie(toewijzingnummer=9999)]})
    body = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).json()
    assert body["verdict"] == "accepted" and body["routing_state"] == "published" and body["retour_code"] == "JW325"
    assert [i["rule"] for i in body["issues"]] == ["TR338"]
    assert "Prestatie[2]" in body["issues"][0]["path"]
    from lxml import etree

    answer = etree.fromstring(body["retour"].encode())
    rejected = answer.findall(".//{*}Prestatie")
    assert len(rejected) == 1  # only the rejected prestatie is listed (TR342)
    assert rejected[0].find("{*}RetourCodes/{*}RetourCode").text == "9338"
    assert [i["type"] for i in stream(client, GEMEENTE, keys.gemeente)][-1] == "JW323"


def test_declaration_with_a_tr319_prestatie_still_gets_the_later_levels(client, keys):
    """TR319 (in-message, 9319 on its Prestatie) is no level-2 failure: the cross-message rules
    still judge the other prestaties, and the 325 rejects both failing ones."""
    from gateway.samples.xmlbuild import previous_month

    bsn = samples.BSNS[503]
    assert client.post("/v1/messages", content=samples.allocation("ijw", bsn=bsn),
                       headers=auth(keys.gemeente)).json()["verdict"] == "accepted"
    prev = previous_month(previous_month()[0])
    xml = samples.declaration("ijw", periode=prev, clients={bsn: [
        samples.Prestatie(referentienummer="GOOD", begindatum=prev[0], einddatum=prev[1]),
        samples.Prestatie(referentienummer="LATE"),
        samples.Prestatie(referentienummer="BAD", begindatum=prev[0], einddatum=prev[1], toewijzingnummer=9999),
    ]})
    body = client.post("/v1/messages", content=xml, headers=auth(keys.aanbieder)).json()
    assert body["verdict"] == "accepted" and body["retour_code"] == "JW325"
    assert sorted(i["rule"] for i in body["issues"]) == ["TR319", "TR338"]
    from lxml import etree

    answer = etree.fromstring(body["retour"].encode())
    codes = [p.find("{*}RetourCodes/{*}RetourCode").text for p in answer.findall(".//{*}Prestatie")]
    assert codes == ["9319", "9338"]


def test_a_persistent_store_conflict_answers_503_with_retry_after(app, client, keys, monkeypatch):
    from gateway.store import ConflictError

    def conflict(*args, **kwargs):
        raise ConflictError("unique constraint")

    monkeypatch.setattr(app.state.pipeline, "_process_valid", conflict)
    r = client.post("/v1/messages", content=samples.request("ijw"), headers=auth(keys.aanbieder))
    assert r.status_code == 503 and "Retry-After" in r.headers
    assert r.json()["error"]["code"] == "store_unavailable" and "Traceback" not in r.text


def test_metrics_show_messages_and_outbox_depth(client, keys):
    assert client.post("/v1/messages", content=samples.request("ijw"), headers=auth(keys.aanbieder)).status_code == 202
    text = client.get("/metrics").text
    assert 'gateway_messages_total{standard="ijw",type="JW315",verdict="accepted"} 1.0' in text
    assert 'gateway_queue_depth{queue="in_flight"} 0.0' in text


def test_console_and_health_are_mounted(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json()["status"] == "ready"
    r = client.get("/console", follow_redirects=False)
    assert r.status_code in (200, 302, 303, 307), r.status_code


def test_routing_state_names_what_happened(client, keys):
    """not_routed / published on the answer; GET follows it to consumed once the receiver acks."""
    r = client.post("/v1/messages", content=samples.allocation("ijw"), headers=auth(keys.gemeente)).json()
    assert r["routing_state"] == "published"  # no Kafka here: on the receiver's stream at once
    view = lambda mid: client.get(f"/v1/messages/{mid}", headers={"X-API-Key": keys.gemeente}).json()  # noqa: E731
    assert view(r["message_id"])["routing_state"] == "published"
    # The gemeente acknowledging the retour on its own stream does not make the message consumed.
    own = stream(client, GEMEENTE, keys.gemeente)
    client.post(f"/v1/streams/{GEMEENTE}/ack", json={"position": own[-1]["position"]},
                headers={"X-API-Key": keys.gemeente})
    assert view(r["message_id"])["routing_state"] == "published"
    item = stream(client, AANBIEDER, keys.aanbieder)[-1]
    client.post(f"/v1/streams/{AANBIEDER}/ack", json={"position": item["position"]},
                headers={"X-API-Key": keys.aanbieder})
    assert view(r["message_id"])["routing_state"] == "consumed"

    # A start for a toewijzing nobody issued is rejected: nothing goes to the gemeente.
    rejected = client.post("/v1/messages", content=samples.start("ijw", products=(samples.Started(toewijzingnummer=424242),)),
                           headers=auth(keys.aanbieder)).json()
    assert rejected["verdict"] == "rejected" and rejected["routing_state"] == "not_routed"
    assert view(rejected["message_id"])["routing_state"] == "not_routed"


def test_retour_is_lf_in_json_and_crlf_as_the_file(client, keys):
    body = client.post("/v1/messages", content=samples.allocation("ijw"), headers=auth(keys.gemeente)).json()
    assert "\r" not in body["retour"] and body["retour"].count("\n") > 3
    file = client.get(body["links"]["retour"], headers={"X-API-Key": keys.gemeente})
    assert file.status_code == 200 and file.headers["content-type"].startswith("application/xml")
    assert b"\r\n" in file.content and file.content.replace(b"\r\n", b"\n") == body["retour"].encode()
