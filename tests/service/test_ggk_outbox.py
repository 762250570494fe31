"""The envelope the gateway answers with goes through the outbox (issue 17, item 3): the Du01
around the retour of an enveloped heenbericht, instead of the bare retour, on the sender's stream;
the Fo01 StUF055 for a payload that fails its XSD, and never a retour. A bare message is answered
bare as before."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import ggk, samples
from gateway.ggk.model import NS_STUF
from gateway.routing import plan
from gateway.settings import Settings

from .conftest import AANBIEDER, GEMEENTE
from .test_api import auth


def stuf(xml: bytes, local: str) -> str | None:
    return etree.fromstring(xml).findtext(f".//{{{NS_STUF}}}{local}")


def answers(client, party: str, key: str, message_id: str) -> list[dict]:  # noqa: ANN001
    r = client.get(f"/v1/streams/{party}", params={"after": 0}, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["headers"].get("answers-message-id") == message_id]


def test_the_du01_goes_to_the_senders_stream_instead_of_the_bare_retour(client, keys):
    di01 = ggk.wrap(samples.allocation("ijw"))
    r = client.post("/v1/messages", content=di01, headers=auth(keys.gemeente))
    assert r.status_code == 202, r.text
    body = r.json()
    (entry,) = answers(client, GEMEENTE, keys.gemeente, body["message_id"])
    du01 = ggk.read(entry["xml"].encode())
    assert du01.berichtcode == "Du01" and du01.stuurgegevens.functie == "JW302"
    assert du01.stuurgegevens.cross_refnummer == stuf(di01, "referentienummer")
    assert du01.stuurgegevens.referentienummer == body["envelope"]["answer_referentienummer"]
    # the same Du01 the API serves, and around the same retour
    served = client.get(f"/v1/messages/{body['message_id']}/retour/envelope",
                        headers={"X-API-Key": keys.gemeente})
    assert served.content == entry["xml"].encode()
    bare = client.get(f"/v1/messages/{body['message_id']}/retour", headers={"X-API-Key": keys.gemeente})
    assert du01.payload == bare.content
    h = entry["headers"]
    assert (h["type"], h["stuf-berichtcode"]) == ("JW302", "Du01")
    assert h["stuf-cross-refnummer"] == stuf(di01, "referentienummer")
    assert h["stuf-referentienummer"] == du01.stuurgegevens.referentienummer
    # the heenbericht itself reaches its receiver bare, as always
    (heen,) = [e for e in client.get(f"/v1/streams/{AANBIEDER}", params={"after": 0},
                                     headers={"X-API-Key": keys.aanbieder}).json()["items"]
               if e["message_id"] == body["message_id"]]
    assert etree.QName(etree.fromstring(heen["xml"].encode())).localname == "Bericht"
    # format=json: the typed view of the retour the Du01 carries
    js = client.get(f"/v1/streams/{GEMEENTE}", params={"after": 0, "format": "json"},
                    headers={"X-API-Key": keys.gemeente}).json()["items"]
    (typed,) = [e for e in js if e["headers"].get("answers-message-id") == body["message_id"]]
    assert typed["type"] == "JW302" and typed["content"]["Header"]["BerichtCode"] == "437"


def test_a_bare_heenbericht_still_gets_its_bare_retour(client, keys):
    r = client.post("/v1/messages", content=samples.allocation("ijw"), headers=auth(keys.gemeente))
    assert r.status_code == 202, r.text
    (entry,) = answers(client, GEMEENTE, keys.gemeente, r.json()["message_id"])
    bare = client.get(f"/v1/messages/{r.json()['message_id']}/retour", headers={"X-API-Key": keys.gemeente})
    assert entry["xml"].encode() == bare.content and "stuf-berichtcode" not in entry["headers"]


def test_a_fo01_goes_to_the_senders_stream_and_no_retour(client, keys):
    bad = samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1)
    di01 = ggk.wrap(bad)
    r = client.post("/v1/messages", content=di01, headers=auth(keys.aanbieder))
    assert r.status_code == 422, r.text
    mid = r.json()["message_id"]
    (entry,) = answers(client, AANBIEDER, keys.aanbieder, mid)
    fout = ggk.read(entry["xml"].encode())
    assert fout.berichtcode == "Fo01" and fout.code == "StUF055"
    assert fout.stuurgegevens.cross_refnummer == stuf(di01, "referentienummer")
    assert entry["headers"]["stuf-berichtcode"] == "Fo01"
    assert (entry["headers"]["sender"], entry["headers"]["receiver"]) == (GEMEENTE, AANBIEDER)
    # nothing reaches the gemeente
    items = client.get(f"/v1/streams/{GEMEENTE}", params={"after": 0},
                       headers={"X-API-Key": keys.gemeente}).json()["items"]
    assert not [e for e in items if e["message_id"] == mid]


def test_with_a_broker_the_xml_topic_carries_the_du01_and_the_json_topic_the_retour(tmp_path):
    """The rows the transaction enqueues (the publisher sends them as they are)."""
    import json

    from gateway.auth.policy import header_route
    from gateway.catalog import by_code
    from gateway.ggk import ingress
    from gateway.routing.correlation import correlate

    settings = Settings(data_dir=tmp_path, hmac_secret="x", kafka_bootstrap="127.0.0.1:1",
                        payload_formats=["xml", "json"])
    di01 = ggk.wrap(samples.allocation("ijw"))
    received = ingress.receive(di01)
    root, mtype = received.payload.root, by_code("JW301")
    retour = samples.allocation("ijw")  # any 3.2 message stands in for the retour's bytes here
    xml, ref, _ = ingress.retour_du01(received, retour, by_code("JW302"))
    du01 = plan.EnvelopeAnswer("Du01", xml, ref, received.referentienummer)
    rows = plan.retour_rows(settings, b"s", by_code("JW302"), root, retour, "M1",
                            header_route(root, mtype), correlate(root, mtype, b"s"), du01)
    by_dest = {r.destination: r for r in rows}
    assert by_dest["stream"].payload == xml
    assert by_dest[f"gw.ijw.{GEMEENTE}.jw302"].payload == xml
    view = json.loads(by_dest[f"gw.ijw.{GEMEENTE}.jw302.json"].payload)
    assert view["headers"]["stuf-berichtcode"] == "Du01" and view["content"] is not None


@pytest.mark.broker
def test_du01_and_fo01_on_a_real_broker(tmp_path, broker, contracts):
    """With the tansu broker: the gemeente's jw302 topic carries the Du01 answering its Di01, the
    aanbieder's fo01 topic the Fo01 for a payload failing its XSD; each once."""
    import asyncio

    import httpx

    from .conftest import live, make_app, make_settings, setup_parties
    from .test_e2e import consume, wait_until_published

    settings = make_settings(tmp_path, kafka_bootstrap=broker.bootstrap, payload_formats=["xml"])
    app = make_app(settings, contracts)
    keys = setup_parties(app)
    di01 = ggk.wrap(samples.allocation("ijw"))
    bad = ggk.wrap(samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1))
    try:
        with live(app) as server:
            ok = httpx.post(f"{server.url}/v1/messages", content=di01, headers=auth(keys.gemeente))
            refused = httpx.post(f"{server.url}/v1/messages", content=bad, headers=auth(keys.aanbieder))
            assert (ok.status_code, refused.status_code) == (202, 422), (ok.text, refused.text)
            wait_until_published(app.state.components.store)
            du01s = asyncio.run(consume(broker.bootstrap, [f"gw.ijw.{GEMEENTE}.jw302"], expected=1))
            fo01s = asyncio.run(consume(broker.bootstrap, [f"gw.ijw.{AANBIEDER}.fo01"], expected=1))
    finally:
        app.state.components.store.close()
    [du01_record] = du01s
    du01 = ggk.read(du01_record.value)
    assert du01.berichtcode == "Du01" and du01.stuurgegevens.cross_refnummer == stuf(di01, "referentienummer")
    assert dict(du01_record.headers)["stuf-berichtcode"] == b"Du01"
    [fo01_record] = fo01s
    fout = ggk.read(fo01_record.value)
    assert fout.code == "StUF055" and fout.stuurgegevens.cross_refnummer == stuf(bad, "referentienummer")
