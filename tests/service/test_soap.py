"""The SOAP service OntvangAsynchroon (issue 17 item 2), with zeep as a real SOAP client built from
the WSDL the gateway serves, over a live uvicorn server: Bv03 only after storing, Fo03 with the
fitting StUF code and nothing stored, a soap:Server fault with a retry hint for the gateway's own
failures; and our WSDL against the official one."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
import requests
from lxml import etree

zeep = pytest.importorskip("zeep")
from zeep.exceptions import Fault  # noqa: E402
from zeep.transports import Transport  # noqa: E402

from gateway import ggk, samples  # noqa: E402
from gateway.ggk.model import NS_STUF  # noqa: E402
from gateway.service.routes_soap import PATH  # noqa: E402

from .conftest import add_party, live  # noqa: E402
from .test_mtls import pki  # noqa: E402, F401  (the test PKI fixture)

STUF_GGK = Path(__file__).resolve().parents[2].parent / "shared" / "stuf-ggk"
NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"


@pytest.fixture
def server(app):
    with live(app) as s:
        yield s


def soap_client(server, key: str | None) -> zeep.Client:  # noqa: ANN001
    session = requests.Session()
    if key:
        session.headers["X-API-Key"] = key
    return zeep.Client(f"{server.url}{PATH}?wsdl", transport=Transport(session=session))


def send(client: zeep.Client, envelope: bytes):  # noqa: ANN201
    """Our own envelope bytes sent through zeep's typed interface (parsed with the served schema)."""
    root = etree.fromstring(envelope)
    name = etree.QName(root)
    element = client.get_element(f"{{{name.namespace}}}{name.localname}")
    obj = element.parse(root, client.wsdl.types)
    operation = {"envelopHeenbericht-ggk_Di01": "ggk_Di01", "envelopRetourbericht-ggk_Du01": "ggk_Du01",
                 "Fo01Bericht": "Fo01"}[name.localname]
    return getattr(client.service, operation)(**{k: obj[k] for k in obj})


def stuf(xml: bytes, local: str) -> str | None:
    return etree.fromstring(xml).findtext(f".//{{{NS_STUF}}}{local}")


def count(app) -> int:  # noqa: ANN001
    return app.state.components.store.count_messages()


def fo03_code(fault: Fault) -> str | None:
    return fault.detail.findtext(f".//{{{NS_STUF}}}code") if fault.detail is not None else None


def test_the_wsdl_points_at_the_real_address_and_binds_soap_11(server):
    r = httpx.get(f"{server.url}{PATH}?wsdl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    doc = etree.fromstring(r.content)
    address = doc.find(f".//{{{NS_WSDL_SOAP11}}}address").get("location")
    assert address == f"{server.url}{PATH}"
    assert doc.find(f".//{{{NS_WSDL_SOAP11}}}binding") is not None  # SOAP 1.1, as the official WSDL


def test_the_wsdl_names_the_configured_address_behind_a_proxy(tmp_path, contracts):
    from .conftest import make_app, make_settings

    app = make_app(make_settings(tmp_path, soap_address="https://gateway.gemeente.example/ggk/"), contracts)
    try:
        with live(app) as s:
            doc = etree.fromstring(httpx.get(f"{s.url}{PATH}?wsdl").content)
            stuf_wsdl = httpx.get(f"{s.url}{PATH}/wsdl/StUF.wsdl").content
    finally:
        app.state.components.store.close()
    assert doc.find(f".//{{{NS_WSDL_SOAP11}}}address").get("location") == "https://gateway.gemeente.example/ggk"
    assert doc.find(f"{{{NS_WSDL}}}import").get("location") == "https://gateway.gemeente.example/ggk/wsdl/StUF.wsdl"
    assert b"https://gateway.gemeente.example/ggk/xsd/stuf.xsd" in stuf_wsdl


def test_a_di01_is_confirmed_with_bv03_after_it_is_stored(app, keys, server):
    jw301 = samples.allocation("ijw")
    di01 = ggk.wrap(jw301)
    ref = stuf(di01, "referentienummer")
    answer = send(soap_client(server, keys.gemeente), di01)
    sg = answer if hasattr(answer, "berichtcode") else answer["stuurgegevens"]
    assert sg["berichtcode"] == "Bv03" and sg["crossRefnummer"] == ref
    assert count(app) == 1
    # stored as through POST /v1/messages: the envelope with its message, answered in a Du01
    row = app.state.components.store.find_envelope(samples.GEMEENTE, ref)
    assert row is not None
    assert app.state.components.store.get_envelope(row["message_id"])["answer_code"] == "Du01"
    stored = app.state.components.store.get_message(row["message_id"])
    assert stored.raw == jw301 and stored.transport == "soap"


def test_the_same_di01_twice_is_confirmed_twice_and_stored_once(app, keys, server):
    di01 = ggk.wrap(samples.allocation("ijw"))
    client = soap_client(server, keys.gemeente)
    send(client, di01)
    send(client, di01)
    assert count(app) == 1


def test_a_du01_is_confirmed(app, keys, server):
    jw301 = samples.allocation("ijw")
    du01 = ggk.wrap_retour(samples.retour(jw301), ggk.read(ggk.wrap(jw301)))
    answer = send(soap_client(server, keys.aanbieder), du01)
    sg = answer if hasattr(answer, "berichtcode") else answer["stuurgegevens"]
    assert sg["crossRefnummer"] == stuf(du01, "referentienummer") and count(app) == 1


def test_a_payload_failing_its_xsd_is_confirmed_and_answered_with_a_fo01_later(app, keys, server):
    """The envelope is fine, its payload is not: the chain gets Bv03 (stored), the Fo01 StUF055
    is the stored answer, as over POST /v1/messages."""
    di01 = ggk.wrap(samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1))
    send(soap_client(server, keys.aanbieder), di01)
    row = app.state.components.store.find_envelope(samples.AANBIEDER, stuf(di01, "referentienummer"))
    assert row is not None
    assert app.state.components.store.get_envelope(row["message_id"])["answer_code"] == "Fo01"


def test_a_bad_envelope_is_an_fo03_with_its_stuf_code_and_nothing_is_stored(app, keys, server):
    di01 = ggk.wrap(samples.allocation("ijw"))
    root = etree.fromstring(di01)
    root.find(f".//{{{NS_STUF}}}functie").text = "JW315"  # not the payload's type
    bad = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    with pytest.raises(Fault) as caught:
        send(soap_client(server, keys.gemeente), bad)
    assert caught.value.code.endswith("Client")
    assert fo03_code(caught.value) == "IB240"
    assert caught.value.detail.findtext(f".//{{{NS_STUF}}}crossRefnummer") == stuf(di01, "referentienummer")
    assert count(app) == 0


def test_a_payload_that_is_no_base64_is_refused(app, keys, server):
    di01 = ggk.wrap(samples.allocation("ijw"))
    payload = etree.fromstring(di01).findtext(".//{http://www.stufstandaarden.nl/koppelvlak/ggk0210}xmlBestand")
    broken = di01.replace(payload.encode(), b"%%%%", 1)
    envelope = (b'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
                b'envelope/"><s:Body>' + broken.split(b"?>", 1)[1] + b"</s:Body></s:Envelope>")
    r = httpx.post(f"{server.url}{PATH}", content=envelope,
                   headers={"X-API-Key": keys.gemeente, "Content-Type": "text/xml; charset=utf-8",
                            "SOAPAction": '"http://www.stufstandaarden.nl/koppelvlak/ggk0210/ggk_Di01"'})
    assert r.status_code == 500 and b"Fo03Bericht" in r.content
    assert etree.fromstring(r.content).findtext(f".//{{{NS_STUF}}}code") in ("RIN001", "StUF055")
    assert count(app) == 0


def test_a_reused_referentienummer_is_fo03_ib216(app, keys, server):
    first = ggk.wrap(samples.allocation("ijw"))
    other = ggk.wrap(samples.allocation("ijw"), referentienummer=stuf(first, "referentienummer"))
    client = soap_client(server, keys.gemeente)
    send(client, first)
    with pytest.raises(Fault) as caught:
        send(client, other)
    assert fo03_code(caught.value) == "IB216" and count(app) == 1


def test_a_bare_message_in_the_soap_body_is_refused_before_anything_is_stored(app, keys, server):
    envelope = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                + samples.allocation("ijw").split(b"?>", 1)[1] + b"</s:Body></s:Envelope>")
    r = httpx.post(f"{server.url}{PATH}", content=envelope,
                   headers={"X-API-Key": keys.gemeente, "Content-Type": "text/xml; charset=utf-8"})
    assert r.status_code == 500 and etree.fromstring(r.content).findtext(f".//{{{NS_STUF}}}code") == "RIN001"
    assert count(app) == 0


def test_soap_12_is_refused_with_a_hint(app, keys, server):
    envelope = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
                + ggk.wrap(samples.allocation("ijw")).split(b"?>", 1)[1] + b"</s:Body></s:Envelope>")
    r = httpx.post(f"{server.url}{PATH}", content=envelope,
                   headers={"X-API-Key": keys.gemeente, "Content-Type": "application/soap+xml"})
    assert r.status_code == 500 and b"SOAP 1.2 is not offered" in r.content and count(app) == 0


def test_a_fo01_is_stored_and_confirmed_with_bv03(app, keys, server):
    """A Fo01 is kept (linked when it names one of our envelopes: tests/service/test_ggk_outbound.py)
    and only then confirmed; one naming none of them is kept unlinked."""
    from gateway.store import ggk as gstore

    di01 = ggk.wrap(samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1))
    fo01 = ggk.fo01(di01, ggk.read(di01), "Begindatum")
    answer = send(soap_client(server, keys.gemeente), fo01)
    sg = answer if hasattr(answer, "berichtcode") else answer["stuurgegevens"]
    assert sg["berichtcode"] == "Bv03" and sg["crossRefnummer"] == stuf(fo01, "referentienummer")
    [row] = gstore.list_fo01(app.state.components.store)
    assert row["code"] == "StUF055" and row["message_id"] is None and row["transport"] == "soap"
    assert count(app) == 0  # a Fo01 is no message


def test_another_partys_zender_is_refused_with_fo03(app, keys, server):
    di01 = ggk.wrap(samples.allocation("ijw"))  # zender: the gemeente
    with pytest.raises(Fault) as caught:
        send(soap_client(server, keys.aanbieder), di01)
    assert fo03_code(caught.value) == "IB234" and count(app) == 0


def test_no_credential_is_a_client_fault(app, keys, server):
    with pytest.raises(Fault) as caught:
        send(soap_client(server, None), ggk.wrap(samples.allocation("ijw")))
    assert caught.value.code.endswith("Client") and count(app) == 0


def test_the_store_unavailable_is_a_server_fault_with_a_retry_hint(app, keys, server, monkeypatch):
    """The gateway's own failure never blames the sender: soap:Server, Retry-After, no Fo03."""
    from sqlalchemy.exc import OperationalError

    def down(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("insert", {}, Exception("connection refused"))

    client = soap_client(server, keys.gemeente)
    monkeypatch.setattr(app.state.pipeline, "process", down)
    with pytest.raises(Fault) as caught:
        send(client, ggk.wrap(samples.allocation("ijw")))
    assert caught.value.code.endswith("Server") and fo03_code(caught.value) is None
    assert caught.value.detail.findtext("{urn:gateway:ggk:soap}retryAfterSeconds") is not None
    assert count(app) == 0


@pytest.mark.parametrize("failure", ["rule", "defect"])
def test_a_rule_failure_or_a_defect_is_a_server_fault(app, keys, server, monkeypatch, failure):
    from validators.faults import GatewayFault

    def broken(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise GatewayFault("rule_failed", "a rule raised") if failure == "rule" else KeyError("x")

    client = soap_client(server, keys.gemeente)
    monkeypatch.setattr(app.state.pipeline, "process", broken)
    with pytest.raises(Fault) as caught:
        send(client, ggk.wrap(samples.allocation("ijw")))
    assert caught.value.code.endswith("Server") and fo03_code(caught.value) is None


def official(*parts: str) -> Path:
    path = STUF_GGK.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"official StUF-GGk reference not present at {path}")
    return path


def test_the_official_di01_carrying_our_message_is_confirmed(app, server):
    """The official example's stuurgegevens (gemeente 0548 to aanbieder 01023456, WMO301) with one
    of our WMO301s inside, sent by zeep: Bv03 with its referentienummer, and stored."""
    raw = official("voorbeeldberichten", "envelopHeenbericht-ggk_Di01_v21-xml.xml").read_bytes()
    key = add_party(app.state.components.store, "0548", "gemeente")
    add_party(app.state.components.store, "01023456", "aanbieder")
    root = etree.fromstring(raw)
    wmo301 = samples.allocation("iwmo", gemeente="0548", aanbieder="01023456")
    root.find(".//{http://www.stufstandaarden.nl/koppelvlak/ggk0210}xmlBestand").text = \
        base64.b64encode(wmo301).decode()
    root.find(".//{http://www.stufstandaarden.nl/koppelvlak/ggk0210}functieVersie").text = "0003"
    di01 = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    answer = send(soap_client(server, key), di01)
    sg = answer if hasattr(answer, "berichtcode") else answer["stuurgegevens"]
    assert sg["crossRefnummer"] == stuf(raw, "referentienummer") and count(app) == 1


def _declared(wsdl: etree._Element, docs: dict[str, etree._Element]) -> dict:
    """Operations (with their input/output/fault message QNames), messages (QName -> element
    QName) and the binding's SOAP version and actions, following wsdl:import."""
    def qname(el: etree._Element, value: str) -> str:
        prefix, _, local = value.rpartition(":")
        return f"{{{el.nsmap[prefix or None]}}}{local}"

    messages = {}
    for doc in [wsdl, *docs.values()]:
        tns = doc.get("targetNamespace")
        for m in doc.iter(f"{{{NS_WSDL}}}message"):
            part = m.find(f"{{{NS_WSDL}}}part")
            messages[f"{{{tns}}}{m.get('name')}"] = qname(part, part.get("element"))
    ops = {}
    for op in wsdl.find(f"{{{NS_WSDL}}}portType").iter(f"{{{NS_WSDL}}}operation"):
        ops[op.get("name")] = {io.tag: qname(io, io.get("message")) for io in op}
    actions = {op.get("name"): op.find(f"{{{NS_WSDL_SOAP11}}}operation").get("soapAction")
               for op in wsdl.find(f"{{{NS_WSDL}}}binding").findall(f"{{{NS_WSDL}}}operation")}
    return {"targetNamespace": wsdl.get("targetNamespace"), "messages": messages, "operations": ops,
            "soap11": wsdl.find(f".//{{{NS_WSDL_SOAP11}}}binding").get("style"), "actions": actions,
            "service": wsdl.find(f"{{{NS_WSDL}}}service").get("name"),
            "port": wsdl.find(f".//{{{NS_WSDL}}}port").get("name")}


def test_our_wsdl_declares_what_the_official_wsdl_does(server):
    path = official("ggk0210", "ggkberichten", "ggk0210_OntvangAsynchroon_ggkberichten.wsdl")
    theirs = etree.parse(str(path)).getroot()
    their_imports = {"stuf": etree.parse(str(STUF_GGK / "0301" / "stuf0301_types.wsdl")).getroot()}
    ours = etree.fromstring(httpx.get(f"{server.url}{PATH}?wsdl").content)
    our_imports = {"stuf": etree.fromstring(httpx.get(f"{server.url}{PATH}/wsdl/StUF.wsdl").content)}
    a, b = _declared(ours, our_imports), _declared(theirs, their_imports)
    # every message an operation uses is declared the same (the official StUF part declares more)
    used = {m for op in b["operations"].values() for m in op.values()}
    assert {k: a["messages"].get(k) for k in used} == {k: b["messages"][k] for k in used}
    assert {k: v for k, v in a.items() if k != "messages"} == {k: v for k, v in b.items() if k != "messages"}


def test_a_client_certificate_identifies_the_party_over_soap(tmp_path, contracts, pki):  # noqa: F811
    """Mutual TLS as for the REST API: the adapter's registered certificate is the party."""
    import ssl

    from gateway.auth.tls import CertAwareH11Protocol, fingerprint_of_pem

    from .conftest import AANBIEDER, make_app, make_settings, setup_parties

    app = make_app(make_settings(tmp_path), contracts)
    setup_parties(app)
    app.state.components.store.add_client_cert(fingerprint_of_pem((pki / "client.pem").read_bytes()), AANBIEDER)
    config = dict(ssl_certfile=str(pki / "server.pem"), ssl_keyfile=str(pki / "server.key"),
                  ssl_ca_certs=str(pki / "ca.pem"), ssl_cert_reqs=ssl.CERT_OPTIONAL, http=CertAwareH11Protocol)
    di01 = ggk.wrap(samples.request("ijw", bsn=samples.BSNS[400]))  # JW315 from the aanbieder
    try:
        with live(app, **config) as s:
            def client(cert: str | None) -> zeep.Client:
                session = requests.Session()
                session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
                session.verify = str(pki / "ca.pem")
                if cert:
                    session.cert = (str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
                return zeep.Client(f"{s.url}{PATH}?wsdl", transport=Transport(session=session))

            with pytest.raises(Fault) as caught:
                send(client("stranger"), di01)
            assert caught.value.code.endswith("Client") and count(app) == 0
            answer = send(client("client"), di01)
            sg = answer if hasattr(answer, "berichtcode") else answer["stuurgegevens"]
            assert sg["crossRefnummer"] == stuf(di01, "referentienummer") and count(app) == 1
    finally:
        app.state.components.store.close()


def test_a_request_over_the_size_limit_is_fo03_ib007(tmp_path, contracts):
    from .conftest import make_app, make_settings, setup_parties

    app = make_app(make_settings(tmp_path, max_message_bytes=4096), contracts)
    keys = setup_parties(app)
    try:
        with live(app) as s:
            di01 = ggk.wrap(samples.allocation("ijw"))
            envelope = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                        + di01.split(b"?>", 1)[1] + b"<!--" + b"x" * 5000 + b"--></s:Body></s:Envelope>")
            r = httpx.post(f"{s.url}{PATH}", content=envelope,
                           headers={"X-API-Key": keys.gemeente, "Content-Type": "text/xml; charset=utf-8"})
    finally:
        app.state.components.store.close()
    assert r.status_code == 500 and etree.fromstring(r.content).findtext(f".//{{{NS_STUF}}}code") == "IB007"


def test_at_the_in_flight_limit_it_is_a_server_fault_with_retry_after(app, keys, server):
    client = soap_client(server, keys.gemeente)
    app.state.in_flight.limit = 0
    with pytest.raises(Fault) as caught:
        send(client, ggk.wrap(samples.allocation("ijw")))
    assert caught.value.code.endswith("Server") and fo03_code(caught.value) is None
    r = httpx.post(f"{server.url}{PATH}", headers={"X-API-Key": keys.gemeente, "Content-Type": "text/xml"},
                   content=b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                   + ggk.wrap(samples.allocation("ijw")).split(b"?>", 1)[1] + b"</s:Body></s:Envelope>")
    assert r.status_code == 503 and r.headers["Retry-After"] == str(app.state.settings.retry_after_seconds)
    assert count(app) == 0
