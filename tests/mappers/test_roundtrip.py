"""XML -> typed model -> XML is lossless for every message type, and refuses what it cannot map."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import mappers
from gateway import catalog
from testsupport import schema_corpus
from schemas import generate

CODES = [t.code for t in catalog.ALL]


def canonical(xml: bytes) -> str:
    """C14N 2.0 with prefixes rewritten: equal for documents that differ only in prefix choice."""
    return etree.canonicalize(xml.decode("utf-8"), rewrite_prefixes=True)


def our_schema(code: str) -> etree.XMLSchema:
    path = generate.schema_dir(catalog.by_code(code).standard) / f"{code}.xsd"
    return _cached(path)


_schemas: dict[Path, etree.XMLSchema] = {}


def _cached(path: Path) -> etree.XMLSchema:
    if path not in _schemas:
        _schemas[path] = etree.XMLSchema(etree.parse(str(path)))
    return _schemas[path]


@pytest.mark.parametrize("code", CODES)
def test_roundtrip_is_lossless(code):
    schema = our_schema(code)
    for xml in schema_corpus.valid_documents(code, 15, seed=11):
        model = mappers.from_xml(xml)
        assert mappers.code_of(model) == code
        assert isinstance(model, mappers.model_for(code))
        out = mappers.to_xml(model)
        assert canonical(out) == canonical(xml)
        assert schema.validate(etree.fromstring(out)), schema.error_log
        # The model is plain data: its JSON form (the typed view) gives back the same values; the
        # XML of it spells them canonically (`5`, not `+05`) and is just as valid.
        again = type(model).model_validate_json(model.model_dump_json())
        assert again == model
        assert schema.validate(etree.fromstring(mappers.to_xml(again)))
        assert mappers.from_xml(mappers.to_xml(again)) == model


def test_canonical_comparison_sees_a_changed_value():
    xml = schema_corpus.valid_document("JW305", seed=1)
    model = mappers.from_xml(xml)
    model.Client.StartProducten.StartProduct[0].Begindatum = "2001-02-03"
    assert model.Client.StartProducten.StartProduct[0].Begindatum == date(2001, 2, 3)  # checked on assignment
    assert canonical(mappers.to_xml(model)) != canonical(xml)


def test_lexical_values_are_kept():
    xml = schema_corpus.valid_document("JW301", seed=1)
    root = etree.fromstring(xml)
    ns = {"m": catalog.by_code("JW301").namespace}
    nummer = root.find(".//m:ToegewezenProduct/m:ToewijzingNummer", ns)
    nummer.text = " 0042\n"  # the same xs:integer, in a form a sender may use
    model = mappers.from_xml(etree.tostring(root))
    product = model.Client.ToegewezenProducten.ToegewezenProduct[0]
    assert product.ToewijzingNummer == 42
    assert b"<jw301:ToewijzingNummer> 0042\n</jw301:ToewijzingNummer>" in mappers.to_xml(model)
    # A changed value is written in its canonical form; the old spelling is not reused.
    product.ToewijzingNummer = 43
    assert b"<jw301:ToewijzingNummer>43</jw301:ToewijzingNummer>" in mappers.to_xml(model)
    # Back to the value it spelled: the received spelling again.
    product.ToewijzingNummer = 42
    assert b"<jw301:ToewijzingNummer> 0042\n</jw301:ToewijzingNummer>" in mappers.to_xml(model)


def test_optional_elements_stay_absent():
    xml = schema_corpus.valid_document("WMO317", seed=2, optional=0.0)
    model = mappers.from_xml(xml)
    assert model.Client.Verzoek.NieuweProducten is None
    assert b"NieuweProducten" not in mappers.to_xml(model)


def test_build_a_message_in_code():
    Bericht = mappers.model_for("JW319")
    source = mappers.from_xml(schema_corpus.valid_document("JW319", seed=5, optional=0.0))
    header = source.Header.model_copy(update={"Afzender": "0363", "Ontvanger": "12345678"})
    antwoord = type(source.Antwoord)(ReferentieAanbieder="REF-1", VerzoekAntwoord="1")  # "1": the code
    msg = Bericht(Header=header, Antwoord=antwoord)
    out = mappers.to_xml(msg)
    assert our_schema("JW319").validate(etree.fromstring(out))
    assert mappers.from_xml(out) == msg


@pytest.mark.parametrize("code", ["JW301", "WMO302", "JW315", "WMO323", "JW325"])
def test_mutants_map_or_raise_mapping_error(code):
    """Every broken document either maps losslessly (a bad string is still a string) or raises
    MappingError: for a broken structure, or naming the value that is not of its field's type
    (a date that is no date, a code outside its list); nothing else escapes."""
    structural = {"missing-required", "unknown-element", "too-many", "wrong-order",
                  "wrong-namespace", "root-namespace"}
    for m in schema_corpus.mutants(code, seed=3, per_kind=5):
        try:
            model = mappers.from_xml(m.xml)
        except mappers.MappingError as exc:
            assert m.kind in structural or m.detail in str(exc), (m.kind, m.path, str(exc))
            continue
        if m.kind == "root-namespace":  # the twin standard's namespace: a different, valid type
            continue
        assert m.kind not in structural, (m.kind, m.path)
        assert canonical(mappers.to_xml(model)) == canonical(m.xml)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"not xml", "XML"),
        (b"<Bericht xmlns='urn:elsewhere'/>", "unknown message namespace"),
        (b"<x:Header xmlns:x='http://www.istandaarden.nl/ijw/3_2/jw301/schema'/>", "must be Bericht"),
    ],
)
def test_refuses_what_is_not_a_message(raw, message):
    with pytest.raises(mappers.MappingError, match=message):
        mappers.from_xml(raw)


def test_code_of_refuses_a_part():
    model = mappers.from_xml(schema_corpus.valid_document("JW305", seed=1))
    with pytest.raises(TypeError):
        mappers.code_of(model.Header)


@pytest.mark.parametrize("code", CODES)
def test_sample_messages_roundtrip(code):
    """The business samples (gateway.samples) map losslessly too, including their layout choices."""
    from gateway import samples

    xml = samples.build(code)
    model = mappers.from_xml(xml)
    assert mappers.code_of(model) == code
    assert canonical(mappers.to_xml(model)) == canonical(_without_layout(xml))


def _without_layout(xml: bytes) -> bytes:
    """Drop whitespace-only text between elements (indentation); leaf values are untouched."""
    root = etree.fromstring(xml)
    for el in root.iter():
        if len(el) and el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.tostring(root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=st.sampled_from(CODES), seed=st.integers(0, 2**32), optional=st.floats(0, 1))
def test_roundtrip_property(code, seed, optional):
    xml = schema_corpus.valid_document(code, seed, optional=optional)
    assert canonical(mappers.to_xml(mappers.from_xml(xml))) == canonical(xml)


def test_bsn_stays_out_of_repr():
    model = mappers.from_xml(schema_corpus.valid_document("JW323", seed=2))
    client = model.Declaratie.Clienten.Client[0]
    assert client.Bsn and client.Bsn not in repr(model) and client.Bsn not in repr(client)
