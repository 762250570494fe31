"""The typed JSON views at the edges: GET /v1/messages/{id}/content, `format=json` streams, the
Kafka JSON payload and the Python client's typed objects."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime

import pytest
from lxml import etree

import mappers
from gateway import samples
from gateway.client import GatewayClient, GatewayError
from gateway.service.models import StreamEntry
from gateway.service.typed_views import json_entry
from mappers.generated import ijw

from .conftest import AANBIEDER, GEMEENTE, live, make_app, make_settings, setup_parties
from .test_api import auth


def send(client, key: str, xml: bytes) -> dict:
    r = client.post("/v1/messages", content=xml, headers=auth(key))
    assert r.status_code in (202, 422), r.text
    return r.json()


def _text(xml: bytes, name: str) -> str:
    return etree.fromstring(xml).find(f".//{{*}}{name}").text


def test_content_is_the_typed_view_for_sender_and_receiver(client, keys):
    xml = samples.allocation("ijw")
    mid = send(client, keys.gemeente, xml)["message_id"]
    for key in (keys.gemeente, keys.aanbieder):
        r = client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": key, "Accept": "application/json"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["message_id"], body["type"], body["standard"]) == (mid, "JW301", "ijw")
        product = body["content"]["Client"]["ToegewezenProducten"]["ToegewezenProduct"][0]
        assert product["Ingangsdatum"] == _text(xml, "Ingangsdatum")  # a date, YYYY-MM-DD
        assert product["ToewijzingNummer"] == int(_text(xml, "ToewijzingNummer"))  # a number
        assert body["content"]["Header"]["BerichtVersie"] == 3
        assert mappers.from_view(body) == mappers.from_xml(xml)
    # No Accept header: JSON too.
    assert client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": keys.aanbieder}).json()["type"] == "JW301"


def test_content_as_xml_is_the_message_as_received(client, keys):
    xml = samples.start("ijw")
    mid = send(client, keys.aanbieder, xml)["message_id"]
    for accept in ("application/xml", "text/xml", "application/json;q=0.5, application/xml"):
        r = client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": keys.aanbieder, "Accept": accept})
        assert r.status_code == 200 and r.content == xml, accept
        assert r.headers["content-type"].startswith("application/xml")
    r = client.get(f"/v1/messages/{mid}/content",
                   headers={"X-API-Key": keys.aanbieder, "Accept": "application/xml;q=0.2, application/json"})
    assert r.json()["type"] == "JW305"


def test_content_of_another_partys_message_is_not_found(app, client, keys):
    from .conftest import add_party

    other = add_party(app.state.components.store, "0344", "gemeente")
    mid = send(client, keys.gemeente, samples.allocation("ijw"))["message_id"]
    for accept in ("application/json", "application/xml"):
        r = client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": other, "Accept": accept})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/v1/messages/NOPE/content", headers={"X-API-Key": keys.gemeente})
    assert r.status_code == 404


@pytest.mark.parametrize("breakage", [
    (b"<Begindatum>", b"<Begindatum>x"),  # a date that is no date
    (b"<Geslacht>", b"<Geslacht>9"),      # a code outside its list
])
def test_a_stored_message_that_does_not_map_gets_a_clear_error_and_keeps_its_xml(app, client, keys, breakage):
    xml = samples.start("ijw") if breakage[0] == b"<Begindatum>" else samples.allocation("ijw")
    xml = xml.replace(*breakage, 1)
    key = keys.aanbieder if breakage[0] == b"<Begindatum>" else keys.gemeente
    body = send(client, key, xml)
    assert body["verdict"] == "transport_rejected"
    mid = body["message_id"]
    r = client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": key})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "not_typed"
    element = breakage[0].decode().strip("<>")
    assert f"/{element}: " in err["message"] and "Accept: application/xml" in err["message"]
    # Nothing lost: the XML as received, and the status.
    r = client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": key, "Accept": "application/xml"})
    assert r.status_code == 200 and r.content == xml
    assert client.get(f"/v1/messages/{mid}", headers={"X-API-Key": key}).json()["verdict"] == "transport_rejected"


def test_content_of_not_xml_is_not_typed(client, keys):
    mid = send(client, keys.aanbieder, b"<<< not xml")["message_id"]
    r = client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": keys.aanbieder})
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_typed"
    r = client.get(f"/v1/messages/{mid}/content", headers={"X-API-Key": keys.aanbieder, "Accept": "application/xml"})
    assert r.content == b"<<< not xml"


# -- streams -----------------------------------------------------------------------------------

def test_stream_in_json_format_carries_the_typed_view(client, keys):
    xml = samples.allocation("ijw")
    sent = send(client, keys.gemeente, xml)
    h = {"X-API-Key": keys.aanbieder}
    page = client.get(f"/v1/streams/{AANBIEDER}", params={"after": 0, "format": "json"}, headers=h).json()
    [item] = page["items"]
    assert page["format"] == "json" and item["message_id"] == sent["message_id"]
    assert item["type"] == "JW301" and item["standard"] == "ijw" and item["error"] is None and item["xml"] is None
    assert item["headers"]["message-id"] == sent["message_id"]
    assert mappers.from_view(item) == mappers.from_xml(xml)
    # The retour back to the gemeente, typed too.
    back = client.get(f"/v1/streams/{GEMEENTE}", params={"after": 0, "format": "json"},
                      headers={"X-API-Key": keys.gemeente}).json()["items"]
    assert [i["type"] for i in back] == ["JW302"] and back[0]["content"]["Header"]["BerichtCode"] == "437"
    # The XML form is unchanged, and the same positions.
    xml_page = client.get(f"/v1/streams/{AANBIEDER}", params={"after": 0}, headers=h).json()
    assert "format" not in xml_page and xml_page["items"][0]["xml"] == xml.decode()
    assert xml_page["next_after"] == page["next_after"]


def test_stream_format_must_be_xml_or_json(client, keys):
    r = client.get(f"/v1/streams/{AANBIEDER}", params={"format": "yaml"}, headers={"X-API-Key": keys.aanbieder})
    assert r.status_code == 400


def test_a_stream_entry_that_does_not_map_keeps_its_xml():
    entry = StreamEntry(position=7, message_id="M1", type="JW301", kind="heen", sender="0599", receiver="1",
                        headers={"type": "JW301"}, xml="<Bericht xmlns='urn:x'/>", created_at=datetime(2026, 1, 2))
    typed = json_entry(entry)
    assert typed.content is None and typed.type == "JW301" and typed.position == 7
    assert "unknown message namespace" in typed.error and typed.xml == entry.xml


# -- Kafka JSON payload ------------------------------------------------------------------------

def test_kafka_json_payload_is_the_typed_view_with_headers(tmp_path):
    from gateway.auth.policy import header_route
    from gateway.catalog import by_code
    from gateway.routing.correlation import correlate
    from gateway.routing.plan import message_rows, retour_rows
    from gateway.settings import Settings

    SECRET = b"test-secret"

    settings = Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:9", payload_formats=["xml", "json"])
    raw = samples.start("ijw")
    root = etree.fromstring(raw)
    mtype = by_code("JW305")
    route = header_route(root, mtype)
    corr = correlate(root, mtype, SECRET)
    rows = message_rows(settings, SECRET, mtype, root, raw, "MSG1", route, corr)
    envelope = json.loads(rows[2].payload)
    assert envelope["headers"]["message-id"] == "MSG1" and envelope["type"] == "JW305"
    assert "xml" not in envelope and "error" not in envelope
    assert mappers.from_view(envelope) == mappers.from_xml(raw)
    begindatum = envelope["content"]["Client"]["StartProducten"]["StartProduct"][0]["Begindatum"]
    assert date.fromisoformat(begindatum).isoformat() == _text(raw, "Begindatum")
    # A payload that does not map still travels, with the reason and its XML.
    back = retour_rows(settings, SECRET, by_code("JW306"), root, b"<retour/>", "MSG1", route, corr)
    bad = json.loads(back[2].payload)
    assert bad["content"] is None and bad["xml"] == "<retour/>" and bad["error"]
    assert bad["type"] == "JW306" and bad["headers"]["answers-message-id"] == "MSG1"


# -- the Python client ---------------------------------------------------------------------------

def test_client_returns_generated_classes(tmp_path, contracts):
    app = make_app(make_settings(tmp_path), contracts)
    keys = setup_parties(app)
    xml = samples.allocation("ijw")
    try:
        with live(app) as server:
            with GatewayClient(server.url, keys.gemeente) as gw:
                receipt = gw.send(xml)
                model = gw.message_content(receipt.message_id)
                assert isinstance(model, ijw.JW301Bericht) and model == mappers.from_xml(xml)
                assert isinstance(model.Client.Geslacht, ijw.LDT_Geslacht)
                assert gw.message_xml(receipt.message_id) == xml
            with GatewayClient(server.url, keys.aanbieder) as gw:
                page = gw.stream(AANBIEDER, after=0)
                [item] = page.items
                assert item.message_id == receipt.message_id and item.error is None
                assert isinstance(item.model, ijw.JW301Bericht) and item.model == model
                assert isinstance(item.created_at, datetime)
                with pytest.raises(GatewayError) as exc:
                    gw.message_content("NOPE")
                assert exc.value.status == 404
                # A refused message: no typed view, a clear error, the XML still there.
                broken = samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1)
                with pytest.raises(GatewayError) as sent:
                    gw.send(broken)
                mid = sent.value.body["message_id"]
                with pytest.raises(GatewayError) as exc:
                    gw.message_content(mid)
                assert exc.value.status == 422 and exc.value.code == "not_typed" and "Begindatum" in exc.value.message
                assert gw.message_xml(mid) == broken
    finally:
        app.state.components.store.close()


def test_client_follows_the_stream_typed(tmp_path, contracts):
    app = make_app(make_settings(tmp_path), contracts)
    keys = setup_parties(app)
    try:
        with live(app) as server:
            received: list = []
            done = threading.Event()

            def follow() -> None:
                with GatewayClient(server.url, keys.aanbieder, timeout=30) as gw:
                    for item in gw.follow(AANBIEDER, typed=True):
                        received.append(item)
                        done.set()
                        return

            t = threading.Thread(target=follow, daemon=True)
            t.start()
            time.sleep(0.3)
            xml = samples.allocation("ijw")
            with GatewayClient(server.url, keys.gemeente) as gw:
                gw.send(xml)
            assert done.wait(20)
            t.join(5)
            [item] = received
            assert isinstance(item.model, ijw.JW301Bericht) and item.model == mappers.from_xml(xml)
    finally:
        app.state.components.store.close()


@pytest.mark.broker
def test_json_topic_on_a_real_broker_carries_the_typed_view(tmp_path, broker, contracts):
    import asyncio

    from .test_e2e import consume, wait_until_published

    settings = make_settings(tmp_path, kafka_bootstrap=broker.bootstrap, payload_formats=["xml", "json"])
    app = make_app(settings, contracts)
    keys = setup_parties(app)
    xml = samples.allocation("ijw")
    try:
        with live(app) as server:
            with GatewayClient(server.url, keys.gemeente) as gw:
                mid = gw.send(xml).message_id
            wait_until_published(app.state.components.store)
            records = asyncio.run(consume(broker.bootstrap, [f"gw.ijw.{AANBIEDER}.jw301.json"], expected=1))
    finally:
        app.state.components.store.close()
    [record] = records
    assert dict(record.headers)["content-type"] == b"application/json"
    body = json.loads(record.value)
    assert body["headers"]["message-id"] == mid and body["type"] == "JW301"
    assert mappers.from_view(body) == mappers.from_xml(xml)
