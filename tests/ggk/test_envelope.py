"""gateway.ggk: wrapping, unwrapping and the envelope rules beyond the schema, each refusal with
its code (no official files needed; tests/ggk/test_conformance.py compares with those)."""

from __future__ import annotations

import base64
import uuid

import pytest
from lxml import etree

from gateway import catalog, clock, ggk, samples
from gateway.ggk import schema
from gateway.ggk.errors import CODES
from gateway.ggk.model import NS_GGK, NS_STUF, Stuurgegevens, Systeem
from testsupport.ggk_corpus import set_field, with_payload

HEEN = [t.code for t in catalog.ALL if t.kind == "heen"]


def refused(raw: bytes, *, opened: bool = True) -> ggk.GgkError:
    with pytest.raises(ggk.EnvelopeError) as caught:
        ggk.unwrap(raw) if opened else ggk.read(raw)
    return caught.value.error


@pytest.fixture(scope="module")
def jw301() -> bytes:
    return samples.build("JW301")


@pytest.fixture(scope="module")
def di01(jw301) -> bytes:
    return ggk.wrap(jw301)


def assert_uuid4(value: str) -> None:
    assert str(uuid.UUID(value)) == value and uuid.UUID(value).version == 4


# -- wrap and unwrap ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", HEEN)
def test_wrap_unwrap_round_trip(code):
    message = samples.build(code)
    raw = ggk.wrap(message)
    opened = ggk.unwrap(raw)
    env, payload = opened.envelope, opened.payload
    assert env.berichtcode == "Di01" and env.payload == message
    sg = env.stuurgegevens
    assert sg.functie == code and payload.mtype.code == code
    assert (env.parameters.functie_versie, env.parameters.functie_subversie) == ("0003", "0002")
    assert sg.zender.organisatie == payload.afzender and sg.ontvanger.organisatie == payload.ontvanger
    assert sg.ontvanger.applicatie == "GGk" and sg.cross_refnummer is None
    assert_uuid4(sg.referentienummer)
    assert schema.compiled().validate(etree.fromstring(raw))


@pytest.mark.parametrize("code", HEEN)
def test_retour_travels_in_a_du01_answering_the_di01(code):
    heen = samples.build(code)
    di01 = ggk.unwrap(ggk.wrap(heen)).envelope
    answer = samples.declaration_answer(heen) if code.endswith("323") else samples.retour(heen)
    du01 = ggk.unwrap(ggk.wrap_retour(answer, di01))
    sg = du01.envelope.stuurgegevens
    assert du01.envelope.berichtcode == "Du01" and du01.envelope.payload == answer
    assert sg.cross_refnummer == di01.stuurgegevens.referentienummer
    assert sg.functie == catalog.by_code(code).answered_by.code
    assert sg.referentienummer != sg.cross_refnummer
    assert_uuid4(sg.referentienummer)
    # The retour goes back the way the heenbericht came.
    assert sg.zender.organisatie == di01.stuurgegevens.ontvanger.organisatie
    assert sg.ontvanger.organisatie == di01.stuurgegevens.zender.organisatie


def test_wrap_refuses_what_has_no_envelope(jw301, di01):
    retour = samples.retour(jw301)
    assert refused_build(lambda: ggk.wrap(retour)).code == "BUILD"
    assert "crossRefnummer" in refused_build(lambda: ggk.wrap(retour)).text
    assert refused_build(lambda: ggk.wrap(jw301, cross_ref=str(uuid.uuid4()))).code == "BUILD"
    wrong = samples.retour(samples.build("JW305"))  # a JW306 does not answer a JW301
    assert "answered by JW302" in refused_build(lambda: ggk.wrap_retour(wrong, ggk.read(di01))).text
    assert refused_build(lambda: ggk.wrap(b"<niet-xml")).code == "PAYLOAD_NOT_XML"
    assert refused_build(lambda: ggk.wrap(b"<Bericht/>")).code == "PAYLOAD_UNKNOWN"


def refused_build(fn) -> ggk.GgkError:
    with pytest.raises(ggk.EnvelopeError) as caught:
        fn()
    return caught.value.error


def test_built_values_must_fit_the_schema(jw301):
    app = ggk.Application(naam="ab")  # applicatie needs 3 characters
    err = refused_build(lambda: ggk.wrap(jw301, app=app))
    assert err.code == "BUILD" and "applicatie" in err.text


def test_tijdstip_is_the_gateway_clock_in_dutch_time(jw301):
    with clock.fixed("2027-01-31T23:30:00+00:00"):  # already 1 February in the Netherlands
        env = ggk.read(ggk.wrap(jw301))
    assert env.stuurgegevens.tijdstip_bericht == "20270201003000"


def test_metadata_is_everything_but_the_payload(di01, jw301):
    meta = ggk.read(di01).metadata()
    assert "payload" not in meta and meta["payload_bytes"] == len(jw301)
    assert meta["stuurgegevens"]["functie"] == "JW301"


# -- the envelope rules beyond the schema ----------------------------------------------------------


def test_functie_must_be_the_payloads_type(di01):
    err = refused(set_field(di01, "functie", "JW305"))
    assert (err.code, err.stuf_code) == ("FUNCTIE_MISMATCH", "IB240")
    assert "JW305" in err.text and "JW301" in err.text


def test_a_retour_in_a_di01_and_a_heenbericht_in_a_du01_are_refused(jw301, di01):
    retour = samples.retour(jw301)
    sg = ggk.read(di01).stuurgegevens
    wrong_di01 = ggk.envelope(sg.model_copy(update={"functie": "JW302"}), ggk.Application(), retour, "0003", "0002")
    assert "Du01" in refused(wrong_di01).text
    du_sg = sg.model_copy(update={"berichtcode": "Du01", "cross_refnummer": str(uuid.uuid4())})
    wrong_du01 = ggk.envelope(du_sg, ggk.Application(), jw301, "0003", "0002")
    err = refused(wrong_du01)
    assert err.code == "FUNCTIE_MISMATCH" and "Di01" in err.text


def test_versions_must_be_the_payloads(di01):
    err = refused(set_field(di01, "functieSubversie", "0001"))
    assert (err.code, err.stuf_code) == ("VERSIE_MISMATCH", "IB240")
    assert "0003/0001" in err.text and "0003/0002" in err.text


def test_parties_must_be_the_payloads(di01):
    zender = ggk.read(di01).stuurgegevens.zender.organisatie
    err = refused(set_field(di01, "organisatie", "0363"))  # the first organisatie is the zender's
    assert (err.code, err.stuf_code) == ("ZENDER_MISMATCH", "IB234") and zender in err.text
    root = etree.fromstring(di01)
    root.find(f".//{{{NS_STUF}}}ontvanger/{{{NS_STUF}}}organisatie").text = "87654321"
    err = refused(etree.tostring(root))
    assert (err.code, err.stuf_code) == ("ONTVANGER_MISMATCH", "IB102")


def test_a_du01_may_be_signed_by_a_chain_party(jw301, di01):
    du01 = ggk.wrap_retour(samples.retour(jw301), ggk.read(di01))
    assert ggk.unwrap(set_field(du01, "organisatie", "VECOZO")).envelope.stuurgegevens.zender.organisatie == "VECOZO"
    assert refused(set_field(di01, "organisatie", "VECOZO")).code == "ZENDER_MISMATCH"


@pytest.mark.parametrize("text", ["%%%%", "é", "QQ=", "QQ==QQ==", "SGVsbG8", "QR==", "QUJD=", "QUJ="])
def test_base64_that_does_not_decode(di01, text):
    err = refused(with_payload(di01, text), opened=False)
    assert err.code == "PAYLOAD_BASE64" and err.stuf_code == "RIN001"


def test_base64_in_lines_decodes(di01, jw301):
    encoded = base64.encodebytes(jw301).decode()  # 76-character lines
    assert ggk.unwrap(with_payload(di01, "\n" + encoded)).envelope.payload == jw301


def test_a_doctype_or_entity_in_the_payload_is_refused(di01, jw301):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
              + jw301.split(b"?>", 1)[1].replace(b"<Afzender>", b"<Afzender>&b;", 1))
    err = refused(with_payload(di01, laughs))
    assert (err.code, err.stuf_code) == ("PAYLOAD_NOT_XML", "StUF055") and "DOCTYPE" in err.text
    entity = jw301.replace(b"<Afzender>", b"<Afzender>&xxe;", 1)
    err = refused(with_payload(di01, entity))
    assert err.code == "PAYLOAD_NOT_XML" and "xxe" in err.text


def test_payload_that_is_no_ijw_message(di01):
    assert refused(with_payload(di01, b"Hier staat een iWmo/iJw-heenbericht.")).code == "PAYLOAD_NOT_XML"
    assert refused(with_payload(di01, b"<Bericht xmlns='urn:x'/>")).code == "PAYLOAD_UNKNOWN"
    assert refused(with_payload(di01, "")).code == "PAYLOAD_NOT_XML"


def test_a_doctype_in_the_envelope_is_refused(di01):
    raw = di01.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
    err = refused(raw, opened=False)
    assert err.code == "ENVELOPE_NOT_XML" and "DOCTYPE" in err.text


def test_an_envelope_over_25_mb_is_ib007_before_parsing():
    err = refused(b"<" + b"x" * (25 * 1024 * 1024), opened=False)
    assert (err.code, err.stuf_code) == ("ENVELOPE_TOO_LARGE", "IB007")


def test_a_payload_over_10_mb_in_one_text_node_is_read(di01):
    """libxml2 refuses text nodes over 10 MB unless told otherwise; an envelope's payload is one."""
    big = bytes(range(256)) * (15 * 1024 * 1024 // 256)
    root = etree.fromstring(di01)
    el = root.find(f".//{{{NS_GGK}}}xmlBestand")
    el.tag = f"{{{NS_GGK}}}tekstBestand"
    el.set("bestandsnaam", "groot.bin")
    el.text = base64.b64encode(big).decode()
    env = ggk.read(etree.tostring(root))
    assert env.payload == big and env.parameters.bestand == "tekst"
    with pytest.raises(ggk.EnvelopeError) as caught:
        ggk.open_payload(env)
    assert caught.value.error.code == "PAYLOAD_UNKNOWN" and "tekstBestand" in caught.value.error.text


def test_bad_uuid_and_berichtcode_have_their_codes(di01):
    assert refused(set_field(di01, "referentienummer", str(uuid.uuid1())), opened=False).stuf_code == "IB009"
    assert refused(set_field(di01, "referentienummer", str(uuid.uuid4()).upper()), opened=False).stuf_code == "IB009"
    err = refused(set_field(di01, "berichtcode", "Du01"), opened=False)
    assert (err.code, err.stuf_code) == ("BERICHTCODE", "IB240")
    assert err.path == "/envelopHeenbericht-ggk_Di01/stuurgegevens/berichtcode" and err.line == 4


def test_what_is_not_an_envelope(jw301, di01):
    assert "bare iJw/iWmo message" in refused(jw301, opened=False).text
    fo01 = ggk.fo01(di01, ggk.read(di01), "x")
    assert isinstance(ggk.read(fo01), ggk.Fout)
    assert refused(fo01).code == "NOT_AN_ENVELOPE"
    assert refused(b"not xml", opened=False).code == "ENVELOPE_NOT_XML"
    err = refused(b"\xff\xfe<\x00a\x00/\x00>\x00", opened=False)
    assert err.code == "ENVELOPE_NOT_XML" and "UTF-16" in err.text


def test_error_texts_never_echo_the_payload(di01):
    secret = "A" * 5000 + "%"
    err = refused(with_payload(di01, secret + "="), opened=False)
    assert len(err.text) < 400 and "A" * 100 not in err.text


# -- the chain's answers -------------------------------------------------------------------------


def test_fo01_stuf055_as_the_specification_prescribes(di01):
    received = ggk.read(di01)
    raw = ggk.fo01(di01, received, "Element 'Bsn': " + "x" * 300)
    fo01 = ggk.read(raw)
    sg, rsg = fo01.stuurgegevens, received.stuurgegevens
    assert isinstance(fo01, ggk.Fout) and (fo01.berichtcode, fo01.code, fo01.plek) == ("Fo01", "StUF055", "client")
    assert fo01.omschrijving.startswith("Berichtbody is niet conform schema in sectormodel: Element 'Bsn'")
    assert len(fo01.omschrijving) == 200
    assert fo01.details == "JW301-00010000"  # functie '-' applicatieVersie applicatieSubversie
    assert sg.cross_refnummer == rsg.referentienummer and sg.referentienummer != rsg.referentienummer
    assert_uuid4(sg.referentienummer)
    assert sg.zender.organisatie == rsg.ontvanger.organisatie
    assert (sg.ontvanger.organisatie, sg.ontvanger.applicatie) == (rsg.zender.organisatie, "GGk")
    # detailsXML: the original envelope itself, not base64, not CDATA.
    original = etree.fromstring(fo01.details_xml)
    assert etree.tostring(original, method="c14n") == etree.tostring(etree.fromstring(di01), method="c14n")
    assert b"CDATA" not in raw


def test_bv03_and_fo03_answer_the_received_reference(di01):
    received = ggk.read(di01).stuurgegevens
    bv03 = ggk.read(ggk.bv03(received))
    assert isinstance(bv03, ggk.Bevestiging) and bv03.stuurgegevens.cross_refnummer == received.referentienummer
    assert bv03.stuurgegevens.ontvanger == received.zender
    for code in CODES:
        err = ggk.errors.error(code, f"{code} happened")
        fo03 = ggk.read(ggk.fo03(err, received))
        assert (fo03.berichtcode, fo03.code, fo03.plek) == ("Fo03", CODES[code].stuf, CODES[code].plek)
        assert fo03.details == code and fo03.stuurgegevens.cross_refnummer == received.referentienummer
    unknown = ggk.read(ggk.fo03(ggk.errors.error("ENVELOPE_NOT_XML", "not XML")))
    assert unknown.stuurgegevens.cross_refnummer == "" and unknown.stuurgegevens.ontvanger.applicatie == "onbekend"


def test_stuurgegevens_model_round_trips_through_the_builder(di01):
    sg = Stuurgegevens(berichtcode="Di01", zender=Systeem(organisatie="0599", applicatie="Wmo Applicatie",
                       administratie="Holland Rijnland"), ontvanger=Systeem(organisatie="12345678", applicatie="GGk"),
                       referentienummer=str(uuid.uuid4()), tijdstip_bericht="20270131101500", functie="JW301")
    env = ggk.read(ggk.envelope(sg, ggk.Application(), samples.build("JW301"), "0003", "0002"))
    assert env.stuurgegevens == sg


def test_every_code_maps_to_a_stuf_code_that_fits_the_body():
    for code, spec in CODES.items():
        assert len(spec.stuf) <= 7 and spec.plek in ("client", "server"), code
