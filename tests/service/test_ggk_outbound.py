"""Municipal heenberichten out in a Di01 and the answers that come back (issue 17 item 4): a JW301
the back office hands in for a party reached through the chain leaves enveloped (stream, topic,
SOAP endpoint); the Du01 and the Fo01 that answer it are linked to it and shown with it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi.testclient import TestClient

pytest.importorskip("zeep")

from gateway import ggk, samples
from gateway.ggk.ingress import is_envelope
from gateway.routing.soap_delivery import SoapDelivery
from gateway.store import ggk as gstore
from testsupport.soap_peer import SoapPeer, chain_fo01

from .conftest import AANBIEDER, GEMEENTE, live, make_app, make_settings, setup_parties
from .test_mtls import pki  # noqa: F401  (the test PKI fixture)
from .test_soap import fo03_code, send, soap_client

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


@pytest.fixture
def gw(tmp_path, contracts, store_url):
    """On SQLite and PostgreSQL (the Di01's row is written in the message's group commit)."""
    app = make_app(make_settings(tmp_path, ggk_soap_delivery=False, party_cache_seconds=30, store_url=store_url),
                   contracts)
    app.state.keys = setup_parties(app)
    yield app
    app.state.components.store.close()


@pytest.fixture
def http(gw):
    with TestClient(gw, raise_server_exceptions=False) as c:
        yield c


def chain(app, party: str, url: str | None = None) -> None:  # noqa: ANN001
    gstore.set_chain_party(app.state.components.store, gstore.ChainParty(party, url))


def post(http, body: bytes, key: str):  # noqa: ANN001, ANN201
    return http.post("/v1/messages", content=body, headers={"X-API-Key": key})


def stream_payloads(app, party: str) -> list[bytes]:  # noqa: ANN001
    return [i.payload for i in app.state.components.store.read_stream(party, after=0)]


def send_jw301(gw, http) -> tuple[str, bytes]:  # noqa: ANN001
    jw301 = samples.allocation("ijw")
    r = post(http, jw301, gw.state.keys.gemeente)
    assert r.status_code == 202 and r.json()["verdict"] == "accepted", r.text
    return r.json()["message_id"], jw301


def test_a_municipal_heenbericht_to_a_chain_party_leaves_in_a_di01(gw, http):
    import re

    chain(gw, AANBIEDER)
    mid, jw301 = send_jw301(gw, http)
    [di01] = stream_payloads(gw, AANBIEDER)
    opened = ggk.unwrap(di01)
    sg = opened.envelope.stuurgegevens
    assert opened.envelope.berichtcode == "Di01" and opened.payload.raw == jw301
    assert (sg.zender.organisatie, sg.ontvanger.organisatie, sg.functie) == (GEMEENTE, AANBIEDER, "JW301")
    assert re.fullmatch(UUID4, sg.referentienummer) and sg.cross_refnummer is None
    [sent] = gstore.outgoing_of(gw.state.components.store, mid)
    assert sent["referentienummer"] == sg.referentienummer and sent["functie"] == "JW301"
    item = gw.state.components.store.read_stream(AANBIEDER, after=0)[0]
    assert dict(item.headers)["stuf-berichtcode"] == b"Di01"
    answers = http.get(f"/v1/messages/{mid}/answers", headers={"X-API-Key": gw.state.keys.gemeente}).json()
    assert [s["referentienummer"] for s in answers["sent"]] == [sg.referentienummer]
    assert answers["du01"] == [] and answers["fo01"] == []


def test_to_a_party_not_reached_through_the_chain_it_stays_bare(gw, http):
    mid, jw301 = send_jw301(gw, http)
    assert stream_payloads(gw, AANBIEDER) == [jw301]
    assert gstore.outgoing_of(gw.state.components.store, mid) == []


def test_a_provider_heenbericht_is_not_wrapped(gw, http):
    """Only the municipality's heenberichten leave in a Di01 (a provider's reach the gemeente bare)."""
    chain(gw, GEMEENTE)
    send_jw301(gw, http)  # the allocation the start needs
    start = samples.start("ijw")
    r = post(http, start, gw.state.keys.aanbieder)
    assert r.status_code == 202 and r.json()["verdict"] == "accepted", r.text
    payloads = stream_payloads(gw, GEMEENTE)  # the JW302 of its JW301, the JW305
    assert start in payloads and not any(is_envelope(p) for p in payloads)


def test_the_di01_goes_to_the_soap_endpoint_and_the_du01_coming_back_is_linked(gw, http):
    with SoapPeer() as peer:
        chain(gw, AANBIEDER, peer.url)
        mid, jw301 = send_jw301(gw, http)
        assert asyncio.run(SoapDelivery(gw.state.components.store, gw.state.settings).deliver_round()) == 1
        [di01] = peer.received
    ref = ggk.read(di01).stuurgegevens.referentienummer
    assert gstore.outgoing_of(gw.state.components.store, mid)[0]["referentienummer"] == ref
    # the provider answers: its JW302 in a Du01 whose crossRefnummer is our Di01's reference
    du01 = ggk.wrap_retour(samples.retour(jw301), ggk.read(di01))
    r = post(http, du01, gw.state.keys.aanbieder)
    assert r.status_code == 202, r.text
    answers = http.get(f"/v1/messages/{mid}/answers", headers={"X-API-Key": gw.state.keys.gemeente}).json()
    [linked] = answers["du01"]
    assert linked["message_id"] == r.json()["message_id"] and linked["code"] == "JW302"
    assert linked["cross_refnummer"] == ref


def test_a_fo01_over_soap_is_stored_linked_and_confirmed(gw, http, tmp_path):
    chain(gw, AANBIEDER)
    mid, _ = send_jw301(gw, http)
    ref = gstore.outgoing_of(gw.state.components.store, mid)[0]["referentienummer"]
    fo01 = chain_fo01(ref, GEMEENTE)
    with live(gw) as server:
        client = soap_client(server, gw.state.keys.gemeente)
        answer = send(client, fo01)
        send(client, fo01)  # the same Fo01 again: confirmed, kept once
    sg = answer if hasattr(answer, "berichtcode") else answer["stuurgegevens"]
    assert sg["berichtcode"] == "Bv03"
    answers = http.get(f"/v1/messages/{mid}/answers", headers={"X-API-Key": gw.state.keys.gemeente}).json()
    [got] = answers["fo01"]
    assert (got["code"], got["zender"], got["message_id"], got["cross_refnummer"]) == ("IB210", "IB", mid, ref)
    assert len(gstore.list_fo01(gw.state.components.store)) == 1


def test_a_fo01_posted_naming_nothing_of_ours_is_kept_unlinked(gw, http):
    fo01 = chain_fo01(str(uuid.uuid4()), GEMEENTE)
    r = post(http, fo01, gw.state.keys.gemeente)
    assert r.status_code == 202, r.text
    assert r.json()["fo01"]["linked_message_id"] is None and r.json()["fo01"]["code"] == "IB210"
    listed = http.get("/v1/ggk/fo01?unlinked=true", headers={"X-API-Key": gw.state.keys.gemeente}).json()
    assert [i["id"] for i in listed["items"]] == [r.json()["fo01"]["fo01_id"]]
    # not the provider's business
    other = http.get("/v1/ggk/fo01", headers={"X-API-Key": gw.state.keys.aanbieder}).json()
    assert other["items"] == []


def test_a_fo01_posted_answering_our_du01_is_linked(gw, http):
    """The chain's Fo01 about the Du01 the gateway answered a Di01 with."""
    r = post(http, ggk.wrap(samples.start("ijw")), gw.state.keys.aanbieder)
    mid = r.json()["message_id"]
    du01_ref = r.json()["envelope"]["answer_referentienummer"]
    got = post(http, chain_fo01(du01_ref, GEMEENTE, code="IB102"), gw.state.keys.gemeente)
    assert got.json()["fo01"]["linked_message_id"] == mid


def test_a_reused_fo01_reference_and_a_stranger_zender_are_refused(gw, http):
    ref = str(uuid.uuid4())
    assert post(http, chain_fo01(str(uuid.uuid4()), GEMEENTE, referentienummer=ref), gw.state.keys.gemeente
                ).status_code == 202
    again = post(http, chain_fo01(str(uuid.uuid4()), GEMEENTE, referentienummer=ref), gw.state.keys.gemeente)
    assert again.status_code == 422 and "IB216" in again.text
    stranger = post(http, chain_fo01(str(uuid.uuid4()), GEMEENTE, zender=AANBIEDER), gw.state.keys.gemeente)
    assert stranger.status_code == 403
    with live(gw) as server:
        from zeep.exceptions import Fault

        with pytest.raises(Fault) as caught:
            send(soap_client(server, gw.state.keys.gemeente),
                 chain_fo01(str(uuid.uuid4()), GEMEENTE, referentienummer=ref))
    assert fo03_code(caught.value) == "IB216"
    assert len(gstore.list_fo01(gw.state.components.store)) == 1


def test_on_kafka_the_xml_topic_carries_the_di01_and_the_json_topic_the_typed_view(tmp_path, contracts):
    """The rows as planned (no broker needed: the outbox holds them until one is there)."""
    import json

    app = make_app(make_settings(tmp_path, ggk_soap_delivery=False, kafka_bootstrap="127.0.0.1:9",
                                 payload_formats=["xml", "json"]), contracts)
    setup_parties(app)
    try:
        chain(app, AANBIEDER)
        jw301 = samples.allocation("ijw")
        out = app.state.pipeline.process(jw301, None)
        rows = {r.destination: r for r in app.state.components.store.outbox_for(out.message_id)
                if r.party == AANBIEDER or r.destination.startswith(f"gw.ijw.{AANBIEDER}.")}
        assert set(rows) == {"stream", f"gw.ijw.{AANBIEDER}.jw301", f"gw.ijw.{AANBIEDER}.jw301.json"}
        xml = rows[f"gw.ijw.{AANBIEDER}.jw301"]
        assert ggk.unwrap(xml.payload).payload.raw == jw301 and xml.payload == rows["stream"].payload
        typed = rows[f"gw.ijw.{AANBIEDER}.jw301.json"]
        assert not is_envelope(typed.payload) and json.loads(typed.payload)
        assert dict(typed.headers)["stuf-berichtcode"] == b"Di01"
    finally:
        app.state.components.store.close()


def test_a_bare_message_costs_no_query_for_the_chain_parties(gw, http):
    """The chain parties are cached: three municipal messages, at most one read of ggk_parties."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN002
        if "ggk_parties" in statement:
            seen.append(statement)

    engine = gw.state.components.store.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for n in range(3):
            r = post(http, samples.allocation("ijw", identificatie=f"CACHE{n}"),
                     gw.state.keys.gemeente)
            assert r.json()["routing_state"] != "not_routed", r.text
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) <= 1


def test_a_fo01_on_the_inbound_topic_is_kept_and_the_offset_committed(gw, http):
    """The inbound Kafka consumer's handling of one record (the broker's part is
    tests/service/test_sse_inbound.py): a Fo01 is stored linked, then its offset committed."""
    from types import SimpleNamespace

    from gateway.ingress.kafka import InboundConsumer

    chain(gw, AANBIEDER)
    mid, _ = send_jw301(gw, http)
    ref = gstore.outgoing_of(gw.state.components.store, mid)[0]["referentienummer"]
    committed = []

    class Consumer:
        async def commit(self, offsets):  # noqa: ANN001, ANN202
            committed.append(offsets)

    inbound = InboundConsumer(gw.state.pipeline, gw.state.settings)
    inbound.consumer = Consumer()
    record = SimpleNamespace(value=chain_fo01(ref, GEMEENTE), topic="in", partition=0, offset=7)
    asyncio.run(inbound.handle(record))
    [row] = gstore.list_fo01(gw.state.components.store)
    assert row["message_id"] == mid and row["transport"] == "kafka" and len(committed) == 1


def test_two_gateways_over_soap_with_mutual_tls_heen_and_retour(tmp_path, contracts, pki):  # noqa: F811
    """The way out and back between two instances of this gateway, each the other's SOAP peer
    (zeep client against our own OntvangAsynchroon), over mutual TLS: the municipality's gateway
    M delivers the JW301 in a Di01 to the provider's gateway P; P stores it and delivers the JW302
    in its Du01 back to M, which links it to the JW301. Both delivery tasks run in the services."""
    import ssl
    import time

    import httpx

    from gateway.auth.tls import CertAwareH11Protocol, fingerprint_of_pem

    from .conftest import LiveServer

    tls = dict(ssl_certfile=str(pki / "server.pem"), ssl_keyfile=str(pki / "server.key"),
               ssl_ca_certs=str(pki / "ca.pem"), ssl_cert_reqs=ssl.CERT_OPTIONAL, http=CertAwareH11Protocol)
    cert = fingerprint_of_pem((pki / "client.pem").read_bytes())
    apps = {}
    for name in ("m", "p"):
        (tmp_path / name).mkdir()
        apps[name] = make_app(make_settings(tmp_path / name, party_cache_seconds=0.5), contracts)
    keys = {name: setup_parties(app) for name, app in apps.items()}
    servers = {name: LiveServer(app, **tls) for name, app in apps.items()}
    soap = {name: f"{s.url}/soap/ggk0210/OntvangAsynchroon" for name, s in servers.items()}
    # M knows the client certificate as the provider (P's deliveries), P as the municipality
    apps["m"].state.components.store.add_client_cert(cert, AANBIEDER)
    apps["p"].state.components.store.add_client_cert(cert, GEMEENTE)
    mutual = dict(tls_ca=str(pki / "ca.pem"), tls_cert=str(pki / "client.pem"), tls_key=str(pki / "client.key"))
    gstore.set_chain_party(apps["m"].state.components.store, gstore.ChainParty(AANBIEDER, soap["p"], **mutual))
    gstore.set_chain_party(apps["p"].state.components.store, gstore.ChainParty(GEMEENTE, soap["m"], **mutual))
    try:
        with servers["m"], servers["p"]:
            jw301 = samples.allocation("ijw")
            ca = ssl.create_default_context(cafile=str(pki / "ca.pem"))
            r = httpx.post(f"{servers['m'].url}/v1/messages", content=jw301, verify=ca,
                           headers={"X-API-Key": keys["m"].gemeente})
            assert r.status_code == 202 and r.json()["verdict"] == "accepted", r.text
            mid = r.json()["message_id"]
            deadline = time.monotonic() + 20
            answers = {}
            while time.monotonic() < deadline:
                answers = httpx.get(f"{servers['m'].url}/v1/messages/{mid}/answers", verify=ca,
                                    headers={"X-API-Key": keys["m"].gemeente}).json()
                if answers["du01"]:
                    break
                time.sleep(0.1)
            for app in apps.values():  # each lets go of its connection to the other before both stop
                app.state.soap_delivery.close_peers()
    finally:
        for app in apps.values():
            app.state.components.store.close()
    [sent] = answers["sent"]
    [du01] = answers["du01"]
    assert du01["code"] == "JW302" and du01["cross_refnummer"] == sent["referentienummer"]
    assert du01["zender"] == AANBIEDER


def test_a_fo01_in_a_zip_batch_is_kept_and_linked_like_everywhere_else(gw, http):
    """A Fo01 entry of a zip batch is stored (linked by its crossRefnummer, or unlinked) as over
    POST /v1/messages, SOAP and Kafka; a broken one or a reused reference is refused for its entry."""
    import io
    import zipfile

    chain(gw, AANBIEDER)
    mid, _ = send_jw301(gw, http)
    ref = gstore.outgoing_of(gw.state.components.store, mid)[0]["referentienummer"]
    linked, reused = chain_fo01(ref, GEMEENTE), str(uuid.uuid4())
    broken = chain_fo01(str(uuid.uuid4()), GEMEENTE).replace(b"<StUF:code>IB210</StUF:code>", b"")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.xml", linked)
        z.writestr("b.xml", chain_fo01(str(uuid.uuid4()), GEMEENTE, referentienummer=reused))
        z.writestr("c.xml", samples.allocation("ijw"))
        z.writestr("d.xml", broken)
        z.writestr("e.xml", chain_fo01(str(uuid.uuid4()), GEMEENTE, referentienummer=reused, code="IB102"))
        z.writestr("f.xml", linked)  # the same Fo01 again: kept once
    r = http.post("/v1/batches", content=buf.getvalue(),
                  headers={"X-API-Key": gw.state.keys.gemeente, "Content-Type": "application/zip"})
    assert r.status_code == 200, r.text
    a, b, c, d, e, f = r.json()["entries"]
    assert (a["status"], a["code"], a["fo01"]["linked_message_id"], a["fo01"]["code"]) == (202, "Fo01", mid, "IB210")
    assert a["message_id"] is None and not a["duplicate"]
    assert b["status"] == 202 and b["fo01"]["linked_message_id"] is None
    assert c["status"] == 202 and c["code"] == "JW301" and c["message_id"]
    assert d["status"] == 422 and d["error"]["code"] == "ENVELOPE_SCHEMA" and d["fo01"] is None
    assert e["status"] == 422 and e["error"]["code"] == "REFERENCE_REUSED" and "IB216" in e["error"]["message"]
    assert f["status"] == 202 and f["duplicate"] and f["fo01"]["fo01_id"] == a["fo01"]["fo01_id"]
    assert (r.json()["stored"], r.json()["refused"]) == (4, 2)
    kept = gstore.list_fo01(gw.state.components.store)
    assert sorted(k["transport"] for k in kept) == ["batch", "batch"]
    answers = http.get(f"/v1/messages/{mid}/answers", headers={"X-API-Key": gw.state.keys.gemeente}).json()
    assert [x["cross_refnummer"] for x in answers["fo01"]] == [ref]


def declare(gw, http, *, enveloped: bool) -> tuple[str, bytes, str | None]:  # noqa: ANN001
    """An allocation, then the provider's JW323 (in a Di01 or bare): its message id, the 323 and
    the Di01's referentienummer."""
    bsn = samples.BSNS[511]
    r = post(http, samples.allocation("ijw", bsn=bsn), gw.state.keys.gemeente)
    assert r.json()["verdict"] == "accepted", r.text
    jw323 = samples.declaration("ijw", clients={bsn: [samples.Prestatie(referentienummer="P1")]})
    body = ggk.wrap(jw323) if enveloped else jw323
    r = post(http, body, gw.state.keys.aanbieder)
    assert r.status_code == 202 and r.json()["verdict"] == "accepted", r.text
    ref = ggk.read(body).stuurgegevens.referentienummer if enveloped else None
    return r.json()["message_id"], jw323, ref


def send_325(gw, http, jw323: bytes) -> tuple[str, bytes]:  # noqa: ANN001
    jw325 = samples.declaration_answer(jw323, rejected={"P1": ["9321"]})
    r = post(http, jw325, gw.state.keys.gemeente)
    assert r.status_code == 202 and r.json()["verdict"] == "accepted", r.text
    return r.json()["message_id"], jw325


def test_a_municipal_325_answering_an_enveloped_323_leaves_in_a_du01(gw, http):
    """Spec 2.2 / 3.3: the 325 is the 323's retourbericht, so a Du01 whose crossRefnummer is the
    Di01 the 323 came in; on the provider's stream and, with a SOAP endpoint, delivered there."""
    import re

    with SoapPeer() as peer:
        chain(gw, AANBIEDER, peer.url)
        _, jw323, di01_ref = declare(gw, http, enveloped=True)
        delivered = asyncio.run(SoapDelivery(gw.state.components.store, gw.state.settings).deliver_round())
        mid, jw325 = send_325(gw, http, jw323)
        assert asyncio.run(SoapDelivery(gw.state.components.store, gw.state.settings).deliver_round()) == 1
        got = peer.received[delivered:]
    store = gw.state.components.store
    item = store.read_stream(AANBIEDER, after=0)[-1]
    assert item.message_id == mid and len(got) == 1
    opened = ggk.unwrap(item.payload)  # what our own ingress accepts: a 325 travels in a Du01
    sg = opened.envelope.stuurgegevens
    assert opened.envelope.berichtcode == "Du01" and opened.payload.raw == jw325
    assert (sg.zender.organisatie, sg.ontvanger.organisatie, sg.functie) == (GEMEENTE, AANBIEDER, "JW325")
    assert sg.cross_refnummer == di01_ref and re.fullmatch(UUID4, sg.referentienummer)
    assert ggk.read(got[0]).stuurgegevens.referentienummer == sg.referentienummer  # delivered over SOAP
    headers = dict(item.headers)
    assert (headers["stuf-berichtcode"], headers["stuf-cross-refnummer"]) == (b"Du01", di01_ref.encode())
    [sent] = gstore.outgoing_of(store, mid)
    assert (sent["referentienummer"], sent["berichtcode"], sent["functie"]) == (sg.referentienummer, "Du01", "JW325")
    # the chain's Fo01 about that Du01 is linked to the 325
    r = post(http, chain_fo01(sg.referentienummer, GEMEENTE), gw.state.keys.gemeente)
    assert r.json()["fo01"]["linked_message_id"] == mid
    answers = http.get(f"/v1/messages/{mid}/answers", headers={"X-API-Key": gw.state.keys.gemeente}).json()
    assert [s["berichtcode"] for s in answers["sent"]] == ["Du01"]
    assert [f["cross_refnummer"] for f in answers["fo01"]] == [sg.referentienummer]


def test_a_municipal_325_answering_a_bare_323_stays_bare(gw, http):
    """No Di01 to name (crossRefnummer is required in a Du01): answered the way the 323 came."""
    chain(gw, AANBIEDER)
    _, jw323, _ = declare(gw, http, enveloped=False)
    mid, jw325 = send_325(gw, http, jw323)
    item = gw.state.components.store.read_stream(AANBIEDER, after=0)[-1]
    assert item.message_id == mid and item.payload == jw325 and "stuf-berichtcode" not in dict(item.headers)
    assert gstore.outgoing_of(gw.state.components.store, mid) == []


def test_a_rejected_municipal_heenbericht_records_no_di01(gw, http):
    """Not routed: nothing leaves, so no Di01 is recorded as sent (only its JW302 goes back)."""
    chain(gw, AANBIEDER)
    bad = samples.allocation("ijw", bsn="123456780")  # fails the elfproef: rejected, JW302 back
    r = post(http, bad, gw.state.keys.gemeente)
    assert r.status_code == 202 and r.json()["verdict"] == "rejected", r.text
    assert gstore.outgoing_of(gw.state.components.store, r.json()["message_id"]) == []
    assert stream_payloads(gw, AANBIEDER) == []


def test_the_same_message_in_a_further_di01_is_answered_with_a_du01_of_its_own(gw, http):
    """Item 3 for a resend: the retour of every enveloped heenbericht leaves in a Du01 naming its
    Di01. The payload of a stored message in a further Di01 (its own referentienummer) is not
    stored or judged again, but that envelope is stored and answered: the first answer's retour
    in a new Du01, on the stream under an id of its own. IB216 covers the further envelope too,
    and the chain's Fo01 about the new Du01 is linked to the message."""
    key = gw.state.keys.aanbieder
    jw305 = samples.start("ijw")
    first, second = ggk.wrap(jw305), ggk.wrap(jw305)
    ref1, ref2 = (ggk.unwrap(e).envelope.stuurgegevens.referentienummer for e in (first, second))
    r1, r2 = post(http, first, key), post(http, second, key)
    assert r1.status_code == 202 and r2.status_code == 202, r2.text
    b1, b2 = r1.json(), r2.json()
    mid = b1["message_id"]
    assert b2["message_id"] == mid and b2["duplicate"] is True
    assert gw.state.components.store.count_messages() == 1
    assert (b2["envelope"]["referentienummer"], b2["envelope"]["answer"]) == (ref2, "Du01")
    du01_ref2 = b2["envelope"]["answer_referentienummer"]
    assert du01_ref2 not in (b1["envelope"]["answer_referentienummer"], ref1, ref2)
    h = {"X-API-Key": key}
    got = http.get(b2["links"]["envelope_answer"], headers=h)
    assert got.status_code == 200 and got.headers["X-StUF-Berichtcode"] == "Du01"
    sg = ggk.unwrap(got.content).envelope.stuurgegevens
    assert (sg.cross_refnummer, sg.referentienummer, sg.functie) == (ref2, du01_ref2, "JW306")
    assert ggk.unwrap(got.content).envelope.payload == http.get(f"/v1/messages/{mid}/retour", headers=h).content
    assert http.get(f"/v1/messages/{mid}/envelope?referentienummer={ref2}", headers=h).content == second
    assert http.get(f"/v1/messages/{mid}/envelope", headers=h).content == first

    def du01s_on_stream() -> list[str]:
        items = gw.state.components.store.read_stream(AANBIEDER, after=0)
        return [ggk.unwrap(i.payload).envelope.stuurgegevens.cross_refnummer for i in items if is_envelope(i.payload)]

    assert du01s_on_stream() == [ref1, ref2]
    ids = [dict(i.headers)["message-id"] for i in gw.state.components.store.read_stream(AANBIEDER, after=0)
           if is_envelope(i.payload)]
    assert len(set(ids)) == 2  # a consumer that drops ids it saw keeps both envelopes
    # The further envelope again: answered as before, nothing new on the stream.
    r3 = post(http, second, key)
    assert r3.status_code == 202 and r3.json()["envelope"]["answer_referentienummer"] == du01_ref2
    assert du01s_on_stream() == [ref1, ref2]
    # Another message under the further envelope's referentienummer: IB216, nothing stored.
    other = ggk.wrap(samples.start("ijw", identificatie="ANDERE2"), referentienummer=ref2)
    r4 = post(http, other, key)
    assert r4.status_code == 422 and r4.json()["error"]["stuf_code"] == "IB216"
    assert gw.state.components.store.count_messages() == 1
    # The chain's Fo01 about the new Du01 finds the message; the answers list both Du01s.
    fo01 = post(http, chain_fo01(du01_ref2, GEMEENTE, code="IB102"), gw.state.keys.gemeente)
    assert fo01.json()["fo01"]["linked_message_id"] == mid
    answers = http.get(f"/v1/messages/{mid}/answers", headers=h).json()
    assert [s["referentienummer"] for s in answers["sent"]] == [b1["envelope"]["answer_referentienummer"], du01_ref2]
    assert [f["cross_refnummer"] for f in answers["fo01"]] == [du01_ref2]
