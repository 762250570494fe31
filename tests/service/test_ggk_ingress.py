"""POST /v1/messages with a StUF-GGk envelope (issue 17, items 1-3 over HTTP): detection by the root
element, the envelope checks (422, nothing stored), the zender against the authenticated party,
the envelope stored with its message (IB216 on a reused referentienummer), and the answer in an
envelope: the retour in a Du01, or a Fo01 StUF055 for a payload that fails its XSD."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from gateway import ggk, samples
from gateway.ggk.model import NS_STUF
from testsupport.ggk_corpus import set_field, with_payload

from .conftest import AANBIEDER, GEMEENTE
from .test_api import auth

# The official StUF-GGk envelope set (reference data for tests only), as tests/ggk/conftest.py.
STUF_GGK = Path(__file__).resolve().parents[2].parent / "shared" / "stuf-ggk"


def stuf(xml: bytes, local: str) -> str | None:
    return etree.fromstring(xml).findtext(f".//{{{NS_STUF}}}{local}")


def count(app) -> int:  # noqa: ANN001
    return app.state.components.store.count_messages()


def test_an_enveloped_heenbericht_is_processed_and_answered_in_a_du01(app, client, keys):
    jw301 = samples.allocation("ijw")
    di01 = ggk.wrap(jw301)
    ref = stuf(di01, "referentienummer")
    r = client.post("/v1/messages", content=di01, headers=auth(keys.gemeente))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["verdict"] == "accepted" and body["code"] == "JW301" and body["retour_code"] == "JW302"
    env = body["envelope"]
    assert env["berichtcode"] == "Di01" and env["referentienummer"] == ref
    assert (env["zender"], env["ontvanger"], env["functie"]) == (GEMEENTE, AANBIEDER, "JW301")
    assert (env["functie_versie"], env["functie_subversie"]) == ("0003", "0002")
    assert env["answer"] == "Du01"
    mid = body["message_id"]
    # The message is stored as the bare payload (the receiver gets it bare on its stream) ...
    stored = app.state.components.store.get_message(mid)
    assert stored.raw == jw301 and stored.transport == "http"
    # ... and the envelope with it, exactly as received.
    h = {"X-API-Key": keys.gemeente}
    got = client.get(f"/v1/messages/{mid}/envelope", headers=h)
    assert got.status_code == 200 and got.content == di01
    view = client.get(f"/v1/messages/{mid}", headers=h).json()
    assert view["envelope"]["referentienummer"] == ref and view["envelope"]["answer"] == "Du01"
    # The retour in its Du01: crossRefnummer = the Di01's referentienummer, functie = JW302.
    assert body["links"]["envelope_answer"] == f"/v1/messages/{mid}/retour/envelope"
    du01 = client.get(f"/v1/messages/{mid}/retour/envelope", headers=h)
    assert du01.status_code == 200 and du01.headers["X-StUF-Berichtcode"] == "Du01"
    answer = ggk.unwrap(du01.content)
    sg = answer.envelope.stuurgegevens
    assert sg.berichtcode == "Du01" and sg.cross_refnummer == ref and sg.functie == "JW302"
    assert sg.referentienummer == env["answer_referentienummer"] != ref
    assert uuid.UUID(sg.referentienummer).version == 4
    bare = client.get(f"/v1/messages/{mid}/retour", headers=h)
    assert answer.envelope.payload == bare.content  # the same retour, bare and enveloped


def test_a_bare_message_has_no_envelope(client, keys):
    r = client.post("/v1/messages", content=samples.allocation("ijw"), headers=auth(keys.gemeente))
    assert r.status_code == 202 and r.json()["envelope"] is None
    mid = r.json()["message_id"]
    for path in ("envelope", "retour/envelope"):
        got = client.get(f"/v1/messages/{mid}/{path}", headers={"X-API-Key": keys.gemeente})
        assert got.status_code == 404


def test_an_enveloped_retour_in_a_du01_is_received(client, keys):
    jw301 = samples.allocation("ijw")
    di01 = ggk.wrap(jw301)
    jw302 = samples.retour(jw301)
    du01 = ggk.wrap_retour(jw302, ggk.read(di01))
    r = client.post("/v1/messages", content=du01, headers=auth(keys.aanbieder))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["code"] == "JW302" and body["envelope"]["berichtcode"] == "Du01"
    assert body["envelope"]["cross_refnummer"] == stuf(di01, "referentienummer")
    assert body["envelope"]["answer"] is None and "envelope_answer" not in body["links"]


def test_a_payload_failing_its_xsd_gets_a_fo01_stuf055_never_a_retour(app, client, keys):
    bad = samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1)
    di01 = ggk.wrap(bad)
    r = client.post("/v1/messages", content=di01, headers=auth(keys.aanbieder))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["verdict"] == "transport_rejected" and "Begindatum" in body["error"]["path"]
    assert set(body) == {"error", "message_id", "verdict", "issues", "envelope", "links"}
    assert body["envelope"]["answer"] == "Fo01"
    mid = body["message_id"]
    h = {"X-API-Key": keys.aanbieder}
    assert client.get(f"/v1/messages/{mid}/retour", headers=h).status_code == 404
    fo01 = client.get(body["links"]["envelope_answer"], headers=h)
    assert fo01.status_code == 200 and fo01.headers["X-StUF-Berichtcode"] == "Fo01"
    fout = ggk.read(fo01.content)
    assert fout.berichtcode == "Fo01" and fout.code == "StUF055" and fout.plek == "client"
    assert fout.stuurgegevens.cross_refnummer == stuf(di01, "referentienummer")
    assert "Begindatum" in fout.omschrijving and fout.details.startswith("JW305-")
    assert b"envelopHeenbericht-ggk_Di01" in fout.details_xml
    assert app.state.components.store.get_message(mid).raw == bad


@pytest.mark.parametrize("text", ["%%%%", "abc", "QUJD=QUJD"])
def test_broken_base64_is_refused_and_nothing_stored(app, client, keys, text):
    raw = with_payload(ggk.wrap(samples.allocation("ijw")), text)
    r = client.post("/v1/messages", content=raw, headers=auth(keys.gemeente))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "PAYLOAD_BASE64" and err["stuf_code"] == "RIN001" and "base64" in err["message"]
    assert "Traceback" not in r.text and count(app) == 0


def test_functie_mismatch_is_refused(app, client, keys):
    raw = set_field(ggk.wrap(samples.allocation("ijw")), "functie", "JW315")
    r = client.post("/v1/messages", content=raw, headers=auth(keys.gemeente))
    assert r.status_code == 422
    err = r.json()["error"]
    assert (err["code"], err["stuf_code"]) == ("FUNCTIE_MISMATCH", "IB240") and "JW315" in err["message"]
    assert count(app) == 0


def test_a_dtd_inside_the_payload_is_refused(app, client, keys):
    jw301 = samples.allocation("ijw")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
              + jw301.split(b"?>", 1)[1].replace(b"<Afzender>", b"<Afzender>&b;", 1))
    r = client.post("/v1/messages", content=with_payload(ggk.wrap(jw301), laughs), headers=auth(keys.gemeente))
    assert r.status_code == 422
    err = r.json()["error"]
    assert (err["code"], err["stuf_code"]) == ("PAYLOAD_NOT_XML", "StUF055") and "DOCTYPE" in err["message"]
    assert "aaaa" not in r.text and count(app) == 0


def test_a_dtd_in_the_envelope_is_refused(app, client, keys):
    di01 = ggk.wrap(samples.allocation("ijw"))
    raw = di01.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
    r = client.post("/v1/messages", content=raw, headers=auth(keys.gemeente))
    assert r.status_code == 422 and r.json()["error"]["code"] == "ENVELOPE_NOT_XML"
    assert count(app) == 0


def test_zender_must_be_the_payloads_sender(app, client, keys):
    raw = set_field(ggk.wrap(samples.allocation("ijw")), "organisatie", "0999")  # the zender's
    r = client.post("/v1/messages", content=raw, headers=auth(keys.gemeente))
    assert r.status_code == 422 and r.json()["error"]["code"] == "ZENDER_MISMATCH"
    assert count(app) == 0


def test_zender_must_be_the_authenticated_party(app, client, keys):
    # A well-formed envelope of the gemeente, sent with the aanbieder's key: 403 as for a bare message.
    r = client.post("/v1/messages", content=ggk.wrap(samples.allocation("ijw")), headers=auth(keys.aanbieder))
    assert r.status_code == 403 and r.json()["error"]["code"] == "spoofed_sender"
    assert GEMEENTE in r.json()["error"]["message"] and count(app) == 0
    (audit,) = [a for a in app.state.components.store.list_audit(limit=20) if a.action == "message_refused"]
    assert audit.actor == AANBIEDER and audit.details["envelope_zender"] == GEMEENTE


def test_a_reused_referentienummer_is_ib216_and_the_same_envelope_a_duplicate(app, client, keys):
    ref = str(uuid.uuid4())
    first = ggk.wrap(samples.allocation("ijw"), referentienummer=ref)
    r1 = client.post("/v1/messages", content=first, headers=auth(keys.gemeente))
    assert r1.status_code == 202, r1.text
    # The very same envelope again: answered as the first time, stored once.
    again = client.post("/v1/messages", content=first, headers=auth(keys.gemeente))
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert again.json()["message_id"] == r1.json()["message_id"]
    assert again.json()["envelope"]["answer"] == "Du01"
    # Another message under the same referentienummer: IB216, nothing stored.
    other = ggk.wrap(samples.allocation("ijw", identificatie="ANDERE1"), referentienummer=ref)
    assert other != first
    r3 = client.post("/v1/messages", content=other, headers=auth(keys.gemeente))
    assert r3.status_code == 422, r3.text
    err = r3.json()["error"]
    assert (err["code"], err["stuf_code"]) == ("REFERENCE_REUSED", "IB216") and ref in err["message"]
    assert count(app) == 1


def test_a_stuf_message_that_is_no_envelope_is_refused(app, client, keys):
    di01 = ggk.wrap(samples.allocation("ijw"))
    bv03 = ggk.bv03(ggk.read(di01).stuurgegevens)
    r = client.post("/v1/messages", content=bv03, headers=auth(keys.gemeente))
    assert r.status_code == 422 and r.json()["error"]["code"] == "NOT_AN_ENVELOPE" and count(app) == 0


def official(name: str) -> bytes:
    path = STUF_GGK / "voorbeeldberichten" / name
    if not path.is_file():
        pytest.skip(f"official StUF-GGk example not present at {path}")
    return path.read_bytes()


@pytest.mark.parametrize("name, code", [
    ("envelopHeenbericht-ggk_Di01_v21-xml.xml", "PAYLOAD_NOT_XML"),  # payload: a sentence
    ("envelopHeenbericht-ggk_Di01_v21-tekst.xml", "PAYLOAD_UNKNOWN"),  # a tekstBestand
    ("envelopRetourbericht-ggk_Du01-v21.xml", "PAYLOAD_NOT_XML"),
])
def test_the_official_examples_as_they_are(app, client, keys, name, code):
    """The official examples carry a sentence or a text file instead of a message: each is refused
    with its code (after the envelope itself passed), never a 500, nothing stored."""
    r = client.post("/v1/messages", content=official(name), headers=auth(keys.gemeente))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code and count(app) == 0


def test_the_official_fo01_is_kept_as_a_chain_error(app, client, keys):
    """The official Fo01 (IB210 from IB) is no message: stored on its own (unlinked: it names no
    envelope of ours), 202, no message stored (tests/service/test_ggk_outbound.py links them)."""
    r = client.post("/v1/messages", content=official("Fo01.xml"), headers=auth(keys.gemeente))
    assert r.status_code == 202, r.text
    fo01 = r.json()["fo01"]
    assert (fo01["code"], fo01["zender"], fo01["linked_message_id"]) == ("IB210", "IB", None)
    assert count(app) == 0


def test_the_official_di01_with_a_real_payload(app, client):
    """The official Di01 example (gemeente 0548 to aanbieder 01023456, WMO301) carrying a WMO301
    between those parties: accepted, its referentienummer stored, answered in a Du01."""
    raw = official("envelopHeenbericht-ggk_Di01_v21-xml.xml")
    from .conftest import add_party

    key = add_party(app.state.components.store, "0548", "gemeente")
    add_party(app.state.components.store, "01023456", "aanbieder")
    wmo301 = samples.allocation("iwmo", gemeente="0548", aanbieder="01023456")
    di01 = set_field(with_payload(raw, wmo301), "functieVersie", "0003")  # the example is iWmo 2.2
    r = client.post("/v1/messages", content=di01, headers=auth(key))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["code"] == "WMO301" and body["envelope"]["referentienummer"] == stuf(raw, "referentienummer")
    du01 = ggk.read(client.get(body["links"]["envelope_answer"], headers={"X-API-Key": key}).content)
    assert du01.stuurgegevens.cross_refnummer == stuf(raw, "referentienummer")
    assert du01.stuurgegevens.functie == "WMO302"


def test_a_zip_batch_holds_envelopes_and_bare_messages(app, client, keys):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.xml", ggk.wrap(samples.allocation("ijw")))
        z.writestr("b.xml", with_payload(ggk.wrap(samples.allocation("ijw")), "%%%%"))
    r = client.post("/v1/batches", content=buf.getvalue(),
                    headers={"X-API-Key": keys.gemeente, "Content-Type": "application/zip"})
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert entries[0]["status"] == 202 and entries[0]["code"] == "JW301"
    assert entries[1]["status"] == 422 and entries[1]["error"]["code"] == "PAYLOAD_BASE64"
    assert count(app) == 1


def test_a_bare_transport_rejection_keeps_its_shape(client, keys):
    bad = samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1)
    r = client.post("/v1/messages", content=bad, headers=auth(keys.aanbieder))
    assert r.status_code == 422 and set(r.json()) == {"error", "message_id", "verdict", "issues"}


def test_the_same_refused_payload_envelope_again_is_stored_once(app, client, keys):
    di01 = ggk.wrap(samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1))
    first = client.post("/v1/messages", content=di01, headers=auth(keys.aanbieder))
    again = client.post("/v1/messages", content=di01, headers=auth(keys.aanbieder))
    assert first.status_code == again.status_code == 422, again.text
    assert again.json()["message_id"] == first.json()["message_id"] and count(app) == 1
    assert again.json()["envelope"]["answer"] == "Fo01"


def test_an_unknown_ontvanger_is_ib210_and_nothing_is_stored(app, client, keys):
    """IB210: the envelope is addressed (ontvanger.organisatie, and the payload's receiver) to an
    organisation that is no party of this gateway, or one that was revoked."""
    stranger = samples.allocation("ijw", aanbieder="87654321")
    r = client.post("/v1/messages", content=ggk.wrap(stranger), headers=auth(keys.gemeente))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["stuf_code"], error["plek"]) == ("ONTVANGER_UNKNOWN", "IB210", "client")
    assert "87654321" in error["message"] and count(app) == 0
    # a revoked party is no longer served
    app.state.components.store.revoke_party(AANBIEDER)
    r = client.post("/v1/messages", content=ggk.wrap(samples.allocation("ijw")), headers=auth(keys.gemeente))
    assert r.status_code == 422 and r.json()["error"]["stuf_code"] == "IB210" and count(app) == 0
